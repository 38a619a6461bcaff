// A probe child for the orphan tests: writes where it runs (pid, thread) and then ignores its
// abort signal for ever, so only the host's own mechanism can end it.
import { renameSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

export function run(args) {
  writeFileSync(`${args.pidFile}.tmp`, JSON.stringify({ pid: process.pid, threadId }));
  renameSync(`${args.pidFile}.tmp`, args.pidFile);
  return new Promise(() => { setInterval(() => undefined, 1 << 30); });
}
