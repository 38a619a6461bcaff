// The placement vectors (conformance/vectors/placement.json) hold inside Chromium: the testing
// core, bundled for the browser, places every case's ids on the same owners in a page and in a
// module Worker as it does in Node and Bun.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { testingWasmUrl } from '@trellis/core/testing';
// @ts-expect-error plain ES module without types
import { serveStatic } from '@trellis/browser/serve';
import { launchBrowser, type Browser } from './browser-harness.js';

const vectorsUrl = new URL('../vectors/placement.json', import.meta.url);

/** Checks every case with the core at /testing.wasm; resolves to the titles that differ. */
const CHECK = `import { TestCore } from '/testing.js';
export async function check() {
  const [bytes, vectors] = await Promise.all([
    fetch('/testing.wasm').then((r) => r.arrayBuffer()),
    fetch('/placement.json').then((r) => r.json()),
  ]);
  const core = TestCore.create(await WebAssembly.compile(bytes));
  const wrong = [];
  for (const c of vectors.cases) {
    const { owners } = core.place(c.ids.map((x) => x.id), c.ids.map((x) => x.kind), c.members);
    const got = [...owners].map((i) => (i < 0 ? null : c.members[i].name));
    if (JSON.stringify(got) !== JSON.stringify(c.ids.map((x) => x.owner))) wrong.push(c.title);
  }
  return { cases: vectors.cases.length, wrong };
}`;
const WORKER = `import { check } from '/check.js';
check().then((r) => postMessage(r), (e) => postMessage({ error: String(e) }));`;

describe('placement vectors in Chromium', () => {
  let browser: Browser;
  let site: { url: string; close(): Promise<void> };
  let page: Page;
  const cases = (JSON.parse(readFileSync(vectorsUrl, 'utf8')) as { cases: unknown[] }).cases.length;

  beforeAll(async () => {
    const bundled = await build({
      stdin: { contents: "export { TestCore } from '@trellis/core/testing';", resolveDir: fileURLToPath(new URL('.', import.meta.url)) },
      bundle: true, format: 'esm', platform: 'browser', write: false,
    });
    const js = 'text/javascript';
    [browser, site] = await Promise.all([launchBrowser(), serveStatic({
      pages: {
        '/': { body: '<!doctype html><title>vectors</title>' },
        '/testing.js': { type: js, body: bundled.outputFiles[0].text },
        '/testing.wasm': { type: 'application/wasm', body: readFileSync(testingWasmUrl) },
        '/placement.json': { type: 'application/json', body: readFileSync(vectorsUrl) },
        '/check.js': { type: js, body: CHECK },
        '/worker.js': { type: js, body: WORKER },
      },
    })]);
    page = await browser.context.newPage();
    await page.goto(`${site.url}/`);
  });

  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('every case places the same owners in a page', async () => {
    // A string, so that vitest's transform leaves the page's dynamic import alone.
    const r = await page.evaluate("import('/check.js').then((m) => m.check())");
    expect(r).toEqual({ cases, wrong: [] });
  });

  it('every case places the same owners in a module Worker', async () => {
    const r = await page.evaluate(() => new Promise((resolve) => {
      const w = new Worker('/worker.js', { type: 'module' });
      w.onmessage = (e) => { resolve(e.data); w.terminate(); };
      w.onerror = (e) => resolve({ error: e.message });
    }));
    expect(r).toEqual({ cases, wrong: [] });
  });
});
