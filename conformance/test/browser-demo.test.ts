// The browser demo with --credentials, in Chromium: the page POSTs to the demo server's
// /credential route, starts with the minted credential (no secret in the page) and joins the two
// Node members under the credential's name.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, launchBrowser, until, type Browser } from './browser-harness.js';

const DEMO = fileURLToPath(new URL('../../host-browser/demo/demo.mjs', import.meta.url));

describe('browser demo --credentials', () => {
  let demo: ChildProcess | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    demo?.kill('SIGINT');
  });

  it('a tab fetches its credential from the demo server and joins under its name', async () => {
    const port = await freePort();
    demo = spawn(process.execPath, [DEMO, '--credentials'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    demo.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    expect(await until(() => out.includes('open http://'), 20_000)).toBe(true);
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    expect(await until(async () => /^tab-[0-9a-f]{8}$/.test((await page.textContent('#name')) ?? ''), 10_000)).toBe(true);
    const name = (await page.textContent('#name'))!;
    // Both Node members see the tab: it holds a credential they accept.
    expect(await until(() => out.includes(`node-1: member_up ${name}`) && out.includes(`node-2: member_up ${name}`), 10_000)).toBe(true);
  });
});
