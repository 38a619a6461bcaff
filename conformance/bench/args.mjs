// What every bench script shares: its command-line arguments, its clocks and its output line.
// A bench prints one JSON object per metric, with the machine's load average beside the figure
// (docs/BENCHMARKS.md: a figure measured on a shared machine means little without it).
import { loadavg } from 'node:os';
import { sharedNow } from '../fixtures/shared-clock.mjs';

export const argv = process.argv.slice(2);

/** The word after `name` (e.g. '--runs') on the command line, or `dflt`. */
export function arg(name, dflt) {
  const i = argv.indexOf(name);
  return i < 0 || i + 1 >= argv.length ? dflt : argv[i + 1];
}

/** The number after `name`, or `dflt`; a value that is not a positive number stops the bench. */
export function numArg(name, dflt) {
  const v = Number(arg(name, dflt));
  if (!(v > 0)) { console.error(`${name} must be a positive number`); process.exit(2); }
  return v;
}

/** `--host node|bun`: the runtime of the member processes. */
export const host = arg('--host', 'node');

/** Milliseconds comparable between processes (the children's times): the shared clock. */
export const wallMs = sharedNow;

/** The 1, 5 and 15 minute load averages, as `uptime` prints them. */
export const load = () => loadavg().map((x) => Math.round(x * 100) / 100).join(' ');

/** The shortest time in ms of `runs` calls of `fn(i)`. */
export function best(runs, fn) {
  let b = Infinity;
  for (let i = 0; i < runs; i++) { const t = performance.now(); fn(i); b = Math.min(b, performance.now() - t); }
  return b;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Rounds to `digits` decimals; null stays null (a figure that could not be measured). */
export const round = (value, digits) => (value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits);

/**
 * The output line of bench `bench`: emit(metric, value, unit, extra) prints
 * { bench, ...fields, metric, value (rounded to `digits`), unit, load, ...extra }.
 */
export function emitter(bench, { digits = 2, fields = {} } = {}) {
  return (metric, value, unit, extra = {}) =>
    console.log(JSON.stringify({ bench, ...fields, metric, value: round(value, digits), unit, load: load(), ...extra }));
}
