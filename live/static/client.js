// The shared protocol-v1 client for every page: connect, hello, snapshot and patches folded
// into `state`, reconnect with full-jitter backoff and `since` resync, and (for judges) a
// persistent outbox so that a score confirmed while offline is delivered once, later.

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 10000;
const FINAL_CLOSE_CODES = new Set([4401, 4403]); // a wrong token will not get better by retrying

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
    this.lastFrameAt = 0; // pages watch it to notice a silent link
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.pending = new Map(); // id -> {resolve, reject}
    this.outboxKey = outboxKey;
  }

  start() {
    this.stopped = false;
    this.connect();
    addEventListener("online", () => this.kick());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.kick();
    });
    return this;
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000);
  }

  serverNow() {
    return Date.now() + this.serverOffset;
  }

  kick() {
    // Wake up from sleep or a network change: reconnect now instead of after the backoff.
    if (this.stopped) return;
    if (!this.ws || this.ws.readyState > 1) {
      clearTimeout(this.retryTimer);
      this.connect();
    }
  }

  setStatus(status, detail = {}) {
    if (this.status === status && !detail.force) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: { status, ...detail } }));
  }

  connect() {
    if (this.stopped) return;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const hello = { type: "hello", role: this.role, since: this.seq };
      if (this.token) hello.token = this.token;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (msg) => this.receive(msg.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      for (const { reject } of this.pending.values()) reject({ code: "offline" });
      this.pending.clear();
      this.dispatchEvent(new CustomEvent("closed", { detail: { code: ev.code } }));
      if (FINAL_CLOSE_CODES.has(ev.code)) {
        this.stopped = true;
        this.setStatus("denied", { code: ev.code });
        return;
      }
      this.setStatus(navigator.onLine === false ? "offline" : "reconnecting");
      this.scheduleRetry();
    };
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
    this.lastFrameAt = Date.now();
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
          (frame.type === "ack" ? waiter.resolve : waiter.reject)(frame);
        }
        this.settleOutbox(frame);
        this.dispatchEvent(new CustomEvent(frame.type, { detail: frame }));
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

  // A frame answered by ack (resolve) or error (reject); rejects with {code:"offline"} when
  // not connected. Use `enqueue` instead for frames that must survive being offline.
  request(frame) {
    frame.id = frame.id || LiveClient.newId();
    return new Promise((resolve, reject) => {
      if (!this.sendRaw(frame)) {
        reject({ code: "offline", id: frame.id });
        return;
      }
      this.pending.set(frame.id, { resolve, reject });
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

// Remaining ms of a timer section, on the server's clock.
export function timerRemaining(timer, serverNow) {
  if (!timer) return null;
  const running = timer.running_since != null ? serverNow - timer.running_since : 0;
  return timer.duration_ms - timer.elapsed_ms - running;
}

export function formatClock(ms) {
  const neg = ms < 0;
  const s = Math.floor(Math.abs(ms) / 1000);
  const text = `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  return neg ? `+${text}` : text;
}
