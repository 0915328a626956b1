// Load generator for the benchmarks: one Node process holding every subscriber socket, driven
// by the Python orchestrator through JSON lines on stdin/stdout (one reply per command).
// Loopback only; every wait is bounded by a timeout so a stuck server cannot hang the run.
import { WebSocket } from "ws";
import { io } from "socket.io-client";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MAX_SUBS = 19000; // below the open-file limit of one process here (20,000)

let subs = []; // {sock, kind, t, ready}
let control = null; // peer servers: the socket that asks for a broadcast
let armed = null; // {marker, t0, got, done, first}
let actors = null; // live hub: {host, display, judges: Map}

function assertLoopback(url) {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost") throw new Error(`not loopback: ${url}`);
}

function hit(sub, text) {
  if (armed === null || sub.t !== null) return;
  if (!text.includes(armed.marker)) return;
  sub.t = now();
  if (armed.payload === null) armed.payload = String(text);
  armed.got += 1;
  if (armed.got === subs.length) armed.done();
}

// --- subscribers ---

function openLive(url) {
  return new Promise((resolve) => {
    const origin = "http://" + new URL(url).host;
    const sock = new WebSocket(url, { origin, perMessageDeflate: false });
    const sub = { sock, kind: "live", t: null };
    const timer = setTimeout(() => { sock.terminate(); resolve(null); }, 30000);
    sock.on("open", () => sock.send(JSON.stringify({ type: "hello", role: "audience", since: null })));
    sock.on("message", (data) => {
      if (!sub.ready) {
        if (data.includes('"type":"snapshot"')) { sub.ready = true; clearTimeout(timer); resolve(sub); }
        return;
      }
      hit(sub, data);
    });
    sock.on("close", (code) => { sub.closed = code; if (!sub.ready) { clearTimeout(timer); resolve(null); } });
    sock.on("error", () => {});
  });
}

function openWs(url) {
  return new Promise((resolve) => {
    const sock = new WebSocket(url, { perMessageDeflate: false });
    const sub = { sock, kind: "ws", t: null };
    const timer = setTimeout(() => { sock.terminate(); resolve(null); }, 30000);
    sock.on("open", () => { clearTimeout(timer); resolve(sub); });
    sock.on("message", (data) => hit(sub, data));
    sock.on("error", () => { clearTimeout(timer); resolve(null); });
  });
}

function openSio(url) {
  return new Promise((resolve) => {
    const sock = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, timeout: 30000 });
    const sub = { sock, kind: "sio", t: null };
    const timer = setTimeout(() => { sock.close(); resolve(null); }, 30000);
    sock.on("connect", () => { clearTimeout(timer); resolve(sub); });
    sock.on("m", (text) => hit(sub, text));
    sock.on("connect_error", () => { clearTimeout(timer); sock.close(); resolve(null); });
  });
}

const OPENERS = { live: openLive, ws: openWs, sio: openSio };

function closeSub(sub) {
  if (sub.kind === "sio") sub.sock.close(); else sub.sock.terminate();
}

async function subscribe({ kind, urls, n, parallel = 200 }) {
  if (n > MAX_SUBS) throw new Error(`at most ${MAX_SUBS} subscribers`);
  urls.forEach(assertLoopback);
  if (subs.length && subs[0].kind !== kind) await closeAll();
  const t0 = now();
  let failed = 0;
  let next = subs.length;
  const open = OPENERS[kind];
  async function worker() {
    while (next < n) {
      const i = next++;
      const sub = await open(urls[i % urls.length]);
      if (sub) subs.push(sub); else failed += 1;
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  if (kind !== "live" && control === null) control = await open(urls[0]);
  return { n: subs.length, failed, ms: now() - t0 };
}

async function closeAll() {
  for (const sub of subs) closeSub(sub);
  if (control) closeSub(control);
  subs = []; control = null;
  await sleep(300);
  return { n: 0 };
}

// Wait until every subscriber saw `marker` (or the timeout); `trigger` starts the broadcast.
function measure(marker, trigger, timeoutMs) {
  for (const sub of subs) sub.t = null;
  return new Promise((resolve) => {
    let timer = null;
    const finish = () => {
      clearTimeout(timer);
      const t0 = armed.t0;
      const lat = subs.filter((s) => s.t !== null).map((s) => s.t - t0).sort((a, b) => a - b);
      const out = { n: subs.length, got: armed.got, lat, payload: armed.payload,
        t0abs: performance.timeOrigin + t0,
        abs: subs.filter((s) => s.t !== null).map((s) => performance.timeOrigin + s.t) };
      armed = null;
      resolve(out);
    };
    armed = { marker, t0: now(), got: 0, done: finish, payload: null };
    if (subs.length === 0) { armed.t0 = now(); trigger(); setTimeout(finish, 5); return; }
    timer = setTimeout(finish, timeoutMs);
    armed.t0 = now();
    trigger();
  });
}

// A second generator process (the open-file limit caps one process near 20,000 sockets): arm
// before another process triggers, collect absolute receive times afterwards.
let pending = null;
async function arm({ marker, timeout = 30000 }) {
  pending = measure(marker, () => {}, timeout);
  return {};
}
async function collect() {
  const out = await pending;
  pending = null;
  return { n: out.n, got: out.got, abs: out.abs, payload: out.payload };
}

async function fanout({ reps, marker, timeout = 30000, pause = 300 }) {
  const out = [];
  for (let r = 0; r < reps; r++) {
    const trigger = control.kind === "sio" ? () => control.sock.emit("go") : () => control.sock.send("go");
    out.push(await measure(marker, trigger, timeout));
    await sleep(pause);
  }
  for (const rep of out) { rep.abs = undefined; if (rep !== out[0]) rep.payload = undefined; }
  return { reps: out };
}

// --- the live hub's other actors: host, display, judges ---

class Actor {
  constructor(url, role, token) {
    this.url = url; this.role = role; this.token = token;
    this.waiting = new Map(); this.onPatch = null; this.n = 0;
  }
  open() {
    return new Promise((resolve, reject) => {
      assertLoopback(this.url);
      const origin = "http://" + new URL(this.url).host;
      this.sock = new WebSocket(this.url, { origin, perMessageDeflate: false });
      const timer = setTimeout(() => reject(new Error(`${this.role}: no snapshot`)), 30000);
      this.sock.on("open", () => this.sock.send(JSON.stringify({ type: "hello", role: this.role, token: this.token, since: null })));
      this.sock.on("message", (data) => {
        const t = now();
        const frame = JSON.parse(data);
        if (frame.type === "snapshot") { clearTimeout(timer); resolve(this); }
        else if (frame.type === "ack" || frame.type === "error") {
          const w = this.waiting.get(frame.id);
          if (w) { this.waiting.delete(frame.id); w(frame, t); }
        } else if (frame.type === "patch" && this.onPatch) this.onPatch(frame, t);
      });
      this.sock.on("error", (e) => reject(e));
    });
  }
  // Send a frame with a fresh id; resolve with {frame, ms} when the ack (or error) comes back.
  call(body, timeoutMs = 30000) {
    const id = `${this.role}-${process.pid}-${++this.n}-${Math.random().toString(36).slice(2, 8)}`;
    return new Promise((resolve) => {
      const t0 = now();
      const timer = setTimeout(() => { this.waiting.delete(id); resolve({ frame: { type: "timeout" }, ms: null }); }, timeoutMs);
      this.waiting.set(id, (frame, t) => { clearTimeout(timer); resolve({ frame, ms: t - t0, t0 }); });
      this.sock.send(JSON.stringify({ ...body, id }));
    });
  }
  command(action, args = {}) { return this.call({ type: "command", action, args }); }
}

async function openActors({ url, host, judges }) {
  const a = { host: new Actor(url, "host", host), display: new Actor(url, "display", null), judges: new Map() };
  await a.host.open();
  await a.display.open();
  for (const [id, token] of Object.entries(judges)) a.judges.set(id, await new Actor(url, "judge", token).open());
  actors = a;
  return { judges: a.judges.size };
}

function criteria() {
  const half = (max) => String(Math.round(Math.random() * max * 2) / 2);
  return { innovation: half(30), impact: half(30), value: half(20), delivery: half(20) };
}

async function mustAck(actor, action, args) {
  const r = await actor.command(action, args);
  if (r.frame.type !== "ack") throw new Error(`${action}: ${JSON.stringify(r.frame)}`);
  return r;
}

// One case: stage, open, 15 judges score within `spread` ms, close. Reveal is its own op so
// that the orchestrator can read the server's CPU time around the fan-out alone.
async function runCase({ case: caseId, spread = 1000, present = 2000, timeout = 30000 }) {
  const { host, display, judges } = actors;
  await mustAck(host, "stage", { case: caseId });
  await sleep(present); // the presentation (minutes in a hall; a moment here)
  await mustAck(host, "open", {});
  const sent = new Map(); const seen = new Map();
  let allSeen = null;
  const seenAll = new Promise((r) => { allSeen = r; });
  display.onPatch = (frame, t) => {
    const p = frame.set && frame.set.progress;
    if (!p || p.case !== caseId) return;
    for (const j of p.submitted) if (sent.has(j) && !seen.has(j)) seen.set(j, t - sent.get(j));
    if (seen.size === judges.size) allSeen();
  };
  const acks = await Promise.all([...judges.entries()].map(async ([id, judge]) => {
    await sleep(Math.random() * spread);
    sent.set(id, now());
    const r = await judge.call({ type: "score", case: caseId, criteria: criteria() });
    if (r.frame.type !== "ack") throw new Error(`score ${id}: ${JSON.stringify(r.frame)}`);
    return r.ms;
  }));
  await Promise.race([seenAll, sleep(timeout)]);
  display.onPatch = null;
  await mustAck(host, "close", {});
  await sleep(1000); // the host reveals a moment after closing; let the audience catch up first
  return { acks, display: [...seen.values()] };
}

// Host reveals the current case; time until the LAST subscriber has the result.
async function reveal({ case: caseId, timeout = 30000 }) {
  let revealAck = null;
  const out = await measure(`"result":{"case":"${caseId}"`, () => {
    actors.host.command("reveal", {}).then((r) => { revealAck = r; });
  }, timeout);
  while (revealAck === null) await sleep(5);
  if (revealAck.frame.type !== "ack") throw new Error(`reveal: ${JSON.stringify(revealAck.frame)}`);
  return { ...out, abs: undefined, reveal_ack: revealAck.ms };
}

async function hostOp({ action, args = {} }) {
  const r = await mustAck(actors.host, action, args);
  await sleep(300);
  return { ms: r.ms };
}

// Durable-ack cost: `k` judges re-score the open case back to back for `seconds`.
async function scoreLoop({ case: caseId, k = 1, seconds = 5 }) {
  const { judges } = actors;
  const lat = []; const end = now() + seconds * 1000; const t0 = now();
  await Promise.all([...judges.values()].slice(0, k).map(async (judge) => {
    while (now() < end) {
      const r = await judge.call({ type: "score", case: caseId, criteria: criteria() });
      if (r.frame.type !== "ack") throw new Error(`score: ${JSON.stringify(r.frame)}`);
      lat.push(r.ms);
    }
  }));
  return { acks: lat.length, seconds: (now() - t0) / 1000, lat };
}

async function closeActors() {
  if (actors) {
    for (const a of [actors.host, actors.display, ...actors.judges.values()]) a.sock.terminate();
    actors = null;
  }
  return {};
}

const OPS = {
  subscribe, fanout, close: closeAll, actors: openActors, case: runCase, reveal, host: hostOp,
  scoreloop: scoreLoop, arm, collect,
  close_actors: closeActors,
  count: async () => ({ n: subs.length, open: subs.filter((s) => s.sock.readyState === 1 || s.sock.connected).length }),
  exit: async () => { await closeActors(); await closeAll(); setTimeout(() => process.exit(0), 50); return {}; },
};

const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on("line", (line) => {
  chain = chain.then(async () => {
    let reply;
    try {
      const cmd = JSON.parse(line);
      reply = { ok: true, ...(await OPS[cmd.op](cmd)) };
    } catch (e) {
      reply = { ok: false, error: String(e && e.stack || e) };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
  });
});
rl.on("close", () => process.exit(0));
