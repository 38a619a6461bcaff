// Bundles the browser host for pages and workers: import maps do not apply inside module
// workers, so each entry is one self-contained ES module; they sit side by side with the core's
// release.wasm and find each other through import.meta.url. Input: tsc's output in dist/.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(pkg, 'dist', 'bundle');

export async function bundleBrowser() {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: {
      trellis: join(pkg, 'dist', 'index.js'),
      'supervisor-worker': join(pkg, 'dist', 'supervisor-worker.js'),
      'child-worker': join(pkg, 'dist', 'child-worker.js'),
    },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
  });
  copyFileSync(join(pkg, '..', 'core-as', 'build', 'release.wasm'), join(out, 'release.wasm'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleBrowser();
