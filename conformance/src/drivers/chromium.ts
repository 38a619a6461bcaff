// Debian's Chromium through playwright-core (never a downloaded browser): one persistent context
// per test file, and the OS process of each page's renderer (what SIGSTOP freezes).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.TRELLIS_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  /** The pids of this browser's renderer processes (never another Chromium's: test files run in parallel). */
  rendererPids(): Set<number>;
  close(): Promise<void>;
}

/** How far up from a renderer its browser process is (renderer, zygote, browser) plus a margin. */
const RENDERER_ANCESTORS_MAX = 4;

export async function launchBrowser(args: string[] = []): Promise<Browser> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-chromium-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...args] });
  return {
    context,
    rendererPids: () => rendererPids(`--user-data-dir=${dir}`),
    close: async () => { await context.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}

/**
 * The pids of the Chromium renderer processes whose browser process (an ancestor) has `browserFlag`
 * on its command line (from /proc: Linux only).
 */
function rendererPids(browserFlag: string): Set<number> {
  const procs = new Map<number, { ppid: number; cmd: string }>();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // the field after the parenthesised name (which may hold spaces) is the state, then the ppid
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      procs.set(Number(p), { ppid, cmd: readFileSync(`/proc/${p}/cmdline`, 'utf8') });
    } catch { /* gone meanwhile */ }
  }
  const ours = (pid: number): boolean => {
    for (let q = procs.get(pid), i = 0; q !== undefined && i < RENDERER_ANCESTORS_MAX; q = procs.get(q.ppid), i++) {
      if (q.cmd.includes('--type=')) continue;
      return q.cmd.split('\0').includes(browserFlag);
    }
    return false;
  };
  const out = new Set<number>();
  for (const [pid, p] of procs) if (p.cmd.includes('--type=renderer') && ours(pid)) out.add(pid);
  return out;
}
