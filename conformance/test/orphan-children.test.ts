// Children never outlive their node. A node killed with kill -9 cannot stop anything, and the
// cluster starts its children elsewhere at once: a process child left running, re-parented to
// init, would be a second copy. Its probe ignores its abort signal, so only the host's watch on
// the parent's channel can end it. Worker children live in the node's process and die with it.
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostCommand, waitUntil, type Host } from '../src/drivers/process-member.js';

const OWNER_SCRIPT = fileURLToPath(new URL('./orphans/owner.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OWNER_READY_DEADLINE_MS = 20_000;
/** The child sees its channel close when the kernel tears down the dead node: well under this. */
const CHILD_GONE_DEADLINE_MS = 3_000;

/** True while `pid` is a live process: a zombie (exited, not yet reaped by init) is gone. */
function running(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return existsSync(`/proc/${pid}`) || !existsSync('/proc/self');
  }
}

let dir: string | undefined;
let owner: ChildProcess | undefined;
let probePid = 0;
afterEach(() => {
  owner?.kill('SIGKILL');
  if (probePid && running(probePid)) process.kill(probePid, 'SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
  owner = undefined; probePid = 0; dir = undefined;
});

/** Starts a lone node on `host` running one probe child of `isolate`; resolves to both pids. */
async function startOwner(host: Host, isolate: 'worker' | 'process'): Promise<{ ownerPid: number; probe: { pid: number; threadId: number } }> {
  dir = mkdtempSync(join(tmpdir(), 'trellis-orphans-'));
  const pidFile = join(dir, 'probe.json');
  const p = (owner = spawn(hostCommand(host), [OWNER_SCRIPT, host, isolate, pidFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stderr = '';
  p.stderr!.on('data', (d) => { stderr += d; });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`owner on ${host} not running its child within ${OWNER_READY_DEADLINE_MS} ms: ${stderr}`)), OWNER_READY_DEADLINE_MS);
    createInterface({ input: p.stdout! }).on('line', (l) => { if (l === 'running') { clearTimeout(t); resolve(); } });
    p.on('exit', (code) => { clearTimeout(t); reject(new Error(`owner on ${host} exited with ${code}: ${stderr}`)); });
  });
  await waitUntil(() => existsSync(pidFile), 5_000, 'the probe to write its pid');
  const probe = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number; threadId: number };
  probePid = probe.pid;
  return { ownerPid: p.pid!, probe };
}

async function killOwner(): Promise<void> {
  const p = owner!;
  const exited = new Promise((resolve) => p.once('exit', resolve));
  p.kill('SIGKILL');
  await exited;
}

for (const host of ['node', 'bun'] as const) {
  describe(`children never outlive their node [${host}]`, () => {
    it('a process child that ignores its signal exits when its node is killed with kill -9', async () => {
      const { ownerPid, probe } = await startOwner(host, 'process');
      expect(probe.pid).not.toBe(ownerPid);
      expect(running(probe.pid)).toBe(true);
      await killOwner();
      await waitUntil(() => !running(probe.pid), CHILD_GONE_DEADLINE_MS, `process child ${probe.pid} to exit after its node died`);
    });

    it('a worker child runs inside its node\'s process and ends with it on kill -9', async () => {
      const { ownerPid, probe } = await startOwner(host, 'worker');
      expect(probe.pid).toBe(ownerPid);
      expect(probe.threadId).not.toBe(0);
      await killOwner();
      await waitUntil(() => !running(probe.pid), CHILD_GONE_DEADLINE_MS, `node ${ownerPid} and its worker to be gone`);
    });
  });
}
