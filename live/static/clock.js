// The countdown every page shows: remaining time on the hub's clock, its text, and one set of
// warning thresholds, so the pad, the console and both screens turn amber and red together.

export const WARN_MS = 60000; // the last minute of a presentation
export const TICK_MS = 250;

// Remaining ms of a timer section, on the server's clock (negative: overtime).
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

// Everything a page needs to draw a countdown: the text and its phase.
// phase: "over" (started and at or past zero), "warn" (the last minute), "ok";
// label: the key of the words above the clock ("overtime", "paused", "time_left").
export function countdown(timer, serverNow) {
  const ms = timerRemaining(timer, serverNow);
  if (ms == null) return null;
  const running = timer.running_since != null;
  const started = running || timer.elapsed_ms > 0;
  const over = ms <= 0 && started;
  const warn = !over && ms > 0 && ms <= WARN_MS;
  return {
    ms,
    text: formatClock(ms),
    running,
    started,
    over,
    warn,
    paused: !running && timer.elapsed_ms > 0,
    label: over ? "overtime" : !running && timer.elapsed_ms > 0 ? "paused" : "time_left",
  };
}

// One ticker per page: fn runs every TICK_MS between patches (the countdown moves on its own).
export function everyTick(fn, ms = TICK_MS) {
  return setInterval(fn, ms);
}

// The wall-clock time of day, for "updated at" stamps.
export function wallClock(date = new Date()) {
  return date.toLocaleTimeString("en-GB", { hour12: false });
}
