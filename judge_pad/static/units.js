// Score entry without floating point: every value is held as a whole number of the rubric's
// smallest decimal unit (e.g. 0.5 -> 5 tenths), so 0.1 + 0.2 never becomes 0.30000000000000004.
// This is input handling only; the hub validates and scores.

// Digits after the point of a plain decimal string ("0.5" -> 1, "30" -> 0).
export function decimalsOf(text) {
  const s = plainText(text);
  const dot = s.indexOf(".");
  return dot < 0 ? 0 : s.length - dot - 1;
}

// Decimal strings from the hub are plain, but "1E+2" would still be a valid str(Decimal).
function plainText(text) {
  const s = String(text).trim();
  return /e/i.test(s) ? String(Number(s)) : s;
}

// "27.5" at 1 decimal -> 275. Throws on anything that is not a plain non-negative decimal.
export function toUnits(text, decimals) {
  const s = plainText(text);
  const m = /^(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) throw new Error(`not a plain decimal: ${text}`);
  const frac = (m[2] || "").replace(/0+$/, "");
  if (frac.length > decimals) throw new Error(`${text} needs more than ${decimals} decimals`);
  return Number(m[1]) * 10 ** decimals + Number(frac.padEnd(decimals, "0") || "0");
}

// 275 at 1 decimal -> "27.5"; 270 -> "27" (trailing zeros dropped: both are valid on the wire).
export function fromUnits(units, decimals) {
  const scale = 10 ** decimals;
  const whole = Math.floor(units / scale);
  if (decimals === 0) return String(whole);
  const frac = String(units % scale).padStart(decimals, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : String(whole);
}

// One common scale for the whole rubric, so that criteria add up as integers.
export function rubricScale(rubric) {
  let d = 0;
  for (const c of rubric) d = Math.max(d, decimalsOf(c.step), decimalsOf(c.max));
  return d;
}

// A criterion prepared for the stepper: max and step in units, plus the step buttons to offer:
// the step itself, then tenfold steps up to one point (0.01 -> 0.01, 0.1, 1; 0.5 -> 0.5, 1).
export function prepare(criterion, decimals) {
  const max = toUnits(criterion.max, decimals);
  const step = Math.max(1, toUnits(criterion.step, decimals));
  const one = 10 ** decimals;
  const steps = [step];
  for (let s = step * 10; s <= one; s *= 10) steps.push(s);
  if (steps[steps.length - 1] < one) steps.push(Math.ceil(one / step) * step);
  return { ...criterion, maxU: max, stepU: step, steps: steps.filter((s) => s < max || s === step),
           picks: quickPicks(max, step) };
}

// Quick-pick values at 50 %, 60 % … 100 % of the maximum, rounded down to the step.
export function quickPicks(maxU, stepU) {
  const out = [];
  for (let tenth = 5; tenth <= 10; tenth++) {
    const v = Math.floor((maxU * tenth) / 10 / stepU) * stepU;
    if (v > 0 && !out.includes(v)) out.push(v);
  }
  return out;
}

// The value after pressing a step button: on the step grid, within 0..max.
export function stepBy(value, delta, maxU, stepU) {
  const next = value + delta;
  const snapped = Math.round(next / stepU) * stepU;
  return Math.min(Math.floor(maxU / stepU) * stepU, Math.max(0, snapped));
}
