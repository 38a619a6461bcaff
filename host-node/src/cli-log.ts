// How the CLI logs cluster events: one JSON object per line (`--log json`, for log shippers) or
// one readable line (`--log pretty`, for a terminal). Each line carries the time and the node.
import type { TrellisEvent } from '@trellis/core';

export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

function pretty(v: unknown): string {
  if (typeof v === 'string') return /^[\w.:/@+-]*$/.test(v) && v.length > 0 ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? 'undefined';
}

/** One log line (with its newline) for `event`, seen by `node` at `nowMs`. */
export function formatEvent(format: LogFormat, node: string, event: TrellisEvent, nowMs: number): string {
  const time = new Date(nowMs).toISOString();
  if (format === 'json') return JSON.stringify({ time, node, ...event }) + '\n';
  const fields = Object.entries(event).filter(([k]) => k !== 'type').map(([k, v]) => `${k}=${pretty(v)}`);
  return `${time.slice(11, 23)} ${node} ${event.type.padEnd(16)} ${fields.join(' ')}`.trimEnd() + '\n';
}
