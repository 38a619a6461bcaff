// The gateway on Bun.serve (issue 13, phase 1), in real Chromium: a tab joins a Bun member
// through its gateway, both list each other, and a child the Bun member starts runs in the tab.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemberView } from '@trellis/core';
import { launchBrowser, openTab, serveSite, startTab, tabCall, until, type Browser, type Site } from './browser-harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('a browser tab through a Bun gateway', () => {
  let browser: Browser;
  let site: Site;
  let bun: ChildProcess;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    [browser, site] = await Promise.all([launchBrowser(), serveSite()]);
    bun = spawn(join(root, 'node_modules', '.bin', 'bun'), [join(root, 'conformance', 'fixtures', 'bun-gateway-member.ts'), site.url], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: bun.stdout! }).on('line', (l) => { try { lines.push(JSON.parse(l)); } catch { /* not ours */ } });
  });

  afterAll(async () => {
    bun?.stdin?.end();
    if (bun && bun.exitCode === null) await new Promise((r) => { const t = setTimeout(() => { bun.kill('SIGKILL'); r(undefined); }, 3000); bun.once('exit', () => { clearTimeout(t); r(undefined); }); });
    await browser?.close();
    await site?.close();
  });

  it('the tab joins the Bun member, both list each other, and a child the Bun member starts runs in the tab', async () => {
    expect(await until(() => lines.some((l) => typeof l.address === 'string'), 15_000)).toBe(true);
    const address = lines.find((l) => typeof l.address === 'string')!.address as string;
    const page = await openTab(browser, site);
    const tab = await startTab(page, { scope: 'browser-bun', gateway: `${address}/trellis/browser`, name: 'tab-on-bun' });
    expect(tab.address.startsWith(`${address}/trellis/browser/`)).toBe(true);
    expect(await until(() => lines.some((l) => l.type === 'member_up' && l.name === 'tab-on-bun'), 5000)).toBe(true);
    const seesBun = async () => (await tabCall<MemberView[]>(page, 'members')).some((m) => m.name === 'bun-1' && m.status === 'up');
    expect(await until(seesBun, 5000)).toBe(true);
    expect(await until(() => lines.some((l) => l.started === 'bun-c1'), 10_000)).toBe(true);
    const local = await tabCall<{ id: string; status: string }[]>(page, 'whichChildren', 'local');
    expect(local).toEqual([expect.objectContaining({ id: 'bun-c1', status: 'running' })]);
  });
});
