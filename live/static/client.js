// The shared protocol-v1 client for every page: connect, hello, snapshot and patches folded
// into `state`, a heartbeat and silence watchdog that abandons a half-open link for a fresh
// socket, reconnect with full-jitter backoff and `since` resync, commands with a deadline,
// and (for judges) a persistent outbox so that a score confirmed while offline is delivered
// once, later.

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 10000;
const FINAL_CLOSE_CODES = new Set([4401, 4403]); // a wrong token will not get better by retrying
// A link that delivers no frame at all for SILENT_MS is dead even if the socket says open (a
// half-open TCP path: a tablet roaming between access points). The ping keeps frames flowing
// on a healthy link, so silence means a dead one; the watchdog looks every WATCH_MS.
export const PING_MS = 3000;
export const SILENT_MS = 8000;
const WATCH_MS = 500;
// A command with no ack or error by then is reported as unconfirmed (the host tries again).
export const COMMAND_DEADLINE_MS = 5000;

export class LiveClient extends EventTarget {
  constructor({ role, token = null, url = null, outboxKey = null }) {
    super();
    this.role = role;
    this.token = token;
    this.url = url || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    this.state = {};
    this.seq = null;
    this.epoch = null;
    this.welcome = null;
    this.serverOffset = 0; // serverTime - Date.now()
    this.status = "connecting";
    this.downSince = Date.now(); // when the link was last good (null while online)
    this.heardAt = 0; // the last frame, or the start of the current attempt
    this.pingAt = 0;
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.pending = new Map(); // id -> {resolve, reject, timer}
    this.outboxKey = outboxKey;
  }

  start() {
    this.stopped = false;
    this.connect();
    this.watchTimer = setInterval(() => this.watch(), WATCH_MS);
    addEventListener("online", () => this.kick());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.kick();
    });
    return this;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.watchTimer);
    clearTimeout(this.retryTimer);
    this.detach(1000);
  }

  serverNow() {
    return Date.now() + this.serverOffset;
  }

  kick() {
    // Wake up from sleep or a network change: reconnect now instead of after the backoff.
    if (this.stopped) return;
    if (!this.ws) {
      clearTimeout(this.retryTimer);
      this.connect();
    }
  }

  setStatus(status, detail = {}) {
    if (status === "online") this.downSince = null;
    else if (this.downSince === null) this.downSince = detail.since ?? Date.now();
    if (this.status === status && !detail.force) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: { status, ...detail } }));
  }

  connect() {
    if (this.stopped) return;
    this.detach();
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.heardAt = Date.now(); // the handshake and the snapshot must come within SILENT_MS too
    ws.onopen = () => {
      const hello = { type: "hello", role: this.role, since: this.seq };
      if (this.token) hello.token = this.token;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (msg) => {
      if (this.ws === ws) this.receive(msg.data);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return; // a socket this client already gave up on
      this.ws = null;
      this.dropPending();
      if (FINAL_CLOSE_CODES.has(ev.code)) {
        this.stopped = true;
        clearInterval(this.watchTimer);
        this.setStatus("denied", { code: ev.code });
        return;
      }
      this.down();
      this.scheduleRetry();
    };
  }

  // Forget the current socket without waiting for it: on a half-open link the close handshake
  // never completes, so its onclose may come minutes later (or never); it is ignored then.
  detach(code = undefined) {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      ws.close(code);
    } catch {
      /* already closing */
    }
  }

  // The link is unusable: commands in flight can no longer be answered; the outbox waits.
  down(since = undefined) {
    this.setStatus(navigator.onLine === false ? "offline" : "reconnecting", { since });
  }

  // Drop the link now and reconnect on a fresh socket (silence, or the device lost its network).
  restart() {
    if (this.stopped) return;
    const lastHeard = this.heardAt;
    this.detach();
    this.dropPending();
    this.down(lastHeard || undefined);
    this.scheduleRetry();
  }

  watch() {
    if (this.stopped || !this.ws) return;
    const now = Date.now();
    if (now - this.heardAt > SILENT_MS) {
      this.restart();
      return;
    }
    if (this.status === "online" && this.ws.readyState === 1 && now - this.pingAt >= PING_MS) {
      this.pingAt = now;
      this.sendRaw({ type: "ping" });
    }
  }

  dropPending() {
    // Sent but never answered: the hub may or may not have applied it.
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject({ code: "unconfirmed" });
    }
    this.pending.clear();
  }

  scheduleRetry() {
    if (this.stopped) return;
    const cap = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), Math.random() * cap);
  }

  receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    this.heardAt = Date.now();
    switch (frame.type) {
      case "welcome":
        if (this.epoch && frame.epoch !== this.epoch) this.seq = null; // a new log: start over
        this.epoch = frame.epoch;
        this.welcome = frame;
        this.serverOffset = frame.server_time - Date.now();
        this.dispatchEvent(new CustomEvent("welcome", { detail: frame }));
        break;
      case "snapshot":
        this.state = frame.state;
        this.seq = frame.seq;
        this.attempt = 0;
        this.setStatus("online", { force: true });
        this.dispatchEvent(new CustomEvent("snapshot", { detail: frame }));
        this.dispatchEvent(new CustomEvent("change", { detail: { sections: Object.keys(frame.state), seq: frame.seq } }));
        this.flushOutbox();
        break;
      case "patch":
        if (this.seq !== null && frame.prev !== this.seq) {
          this.resync(); // a gap: ask for a fresh snapshot
          return;
        }
        Object.assign(this.state, frame.set);
        this.seq = frame.seq;
        this.dispatchEvent(new CustomEvent("change", { detail: { sections: Object.keys(frame.set), seq: frame.seq } }));
        break;
      case "ack":
      case "error": {
        const waiter = this.pending.get(frame.id);
        if (waiter) {
          this.pending.delete(frame.id);
          clearTimeout(waiter.timer);
          (frame.type === "ack" ? waiter.resolve : waiter.reject)(frame);
        }
        this.settleOutbox(frame);
        break;
      }
      case "pong":
        this.serverOffset = frame.server_time - Date.now();
        break;
    }
  }

  resync() {
    const hello = { type: "hello", role: this.role, since: this.seq };
    if (this.token) hello.token = this.token;
    this.sendRaw(hello);
  }

  sendRaw(frame) {
    if (this.ws && this.ws.readyState === 1) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  static newId() {
    return (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`).slice(0, 36);
  }

  // A frame answered by ack (resolve) or error (reject). Rejects at once with {code:"offline"}
  // when not connected (nothing was sent), and with {code:"unconfirmed"} when no answer came
  // within the deadline or the link died first (it may or may not have been applied).
  // Use `enqueue` instead for frames that must survive being offline.
  request(frame, deadlineMs = COMMAND_DEADLINE_MS) {
    frame.id = frame.id || LiveClient.newId();
    return new Promise((resolve, reject) => {
      if (this.status !== "online" || !this.sendRaw(frame)) {
        reject({ code: "offline", id: frame.id });
        return;
      }
      const timer = setTimeout(() => {
        if (!this.pending.delete(frame.id)) return;
        reject({ code: "unconfirmed", id: frame.id });
      }, deadlineMs);
      this.pending.set(frame.id, { resolve, reject, timer });
    });
  }

  command(action, args = {}) {
    return this.request({ type: "command", action, args });
  }

  // --- the persistent outbox (judges): survives reloads and sleep; delivered once by id ---

  get outbox() {
    if (!this.outboxKey) return [];
    try {
      return JSON.parse(localStorage.getItem(this.outboxKey) || "[]");
    } catch {
      return [];
    }
  }

  set outbox(items) {
    localStorage.setItem(this.outboxKey, JSON.stringify(items));
    this.dispatchEvent(new CustomEvent("outbox", { detail: { items } }));
  }

  enqueue(frame) {
    frame.id = frame.id || LiveClient.newId();
    // A newer entry for the same case replaces an undelivered older one.
    const items = this.outbox.filter((f) => !(f.type === frame.type && f.case === frame.case));
    items.push({ ...frame, queuedAt: Date.now() });
    this.outbox = items;
    this.flushOutbox();
    return frame.id;
  }

  flushOutbox() {
    if (this.status !== "online") return;
    for (const item of this.outbox) {
      const { queuedAt, ...frame } = item;
      this.sendRaw(frame);
    }
  }

  settleOutbox(frame) {
    if (!this.outboxKey) return;
    const items = this.outbox;
    const item = items.find((f) => f.id === frame.id);
    if (!item) return;
    // Delivered (ack) or refused for good (error): either way it leaves the outbox.
    if (frame.type === "error" && frame.code === "store_unavailable") return; // retry later
    this.outbox = items.filter((f) => f.id !== frame.id);
    this.dispatchEvent(new CustomEvent("delivered", { detail: { item, answer: frame } }));
  }
}

// Show a "reconnecting" notice once the link has been down for `after` ms. A silent link
// counts as down from its last frame, so the notice comes at once when the watchdog gives
// up on it, and stays until a fresh snapshot arrives (no flicker while reconnecting).
export function watchLink(client, onChange, { after = 3000 } = {}) {
  let shown = null;
  const check = () => {
    const stale = client.status !== "online" && client.downSince !== null && Date.now() - client.downSince >= after;
    if (stale !== shown) {
      shown = stale;
      onChange(stale);
    }
  };
  client.addEventListener("status", check);
  setInterval(check, WATCH_MS);
  check();
}
