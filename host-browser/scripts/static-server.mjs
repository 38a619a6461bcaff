// A small static HTTP server for pages that load the browser host (the demo and the Chromium
// tests): `mounts` maps URL prefixes to directories, `pages` maps exact paths to in-memory
// bodies. Pages must come from http://127.0.0.1:<port>, not file:// (workers, BroadcastChannel
// and Web Locks need a real origin). Only GET of files under a mount; no directory listings.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The browser host's bundles (trellis.js, supervisor-worker.js, child-worker.js, release.wasm). */
export const bundleDir = fileURLToPath(new URL('../dist/bundle/', import.meta.url));

const TYPES = {
  '.js': 'text/javascript', '.mjs': 'text/javascript', '.map': 'application/json', '.json': 'application/json',
  '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8', '.css': 'text/css',
};

/**
 * Serves `mounts` ({ '/trellis/': bundleDir, ... }), `pages` ({ '/': { type, body } }) and
 * `routes` ({ '/credential': (req, res) => ... }, answered by the application).
 * Resolves to { url, close() } once listening on host:port (port 0 = any).
 */
export async function serveStatic({ mounts = {}, pages = {}, routes = {}, host = '127.0.0.1', port = 0 } = {}) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const route = routes[path];
    if (route) { route(req, res); return; }
    const page = pages[path];
    if (page) { res.writeHead(200, { 'content-type': page.type ?? TYPES['.html'], 'cache-control': 'no-store' }).end(page.body); return; }
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(dir, path.slice(prefix.length)));
      if (!file.startsWith(normalize(dir + sep)) && file !== normalize(dir)) break;
      try {
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
      } catch {
        res.writeHead(404).end();
      }
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve); });
  const { port: bound } = server.address();
  return {
    url: `http://${host}:${bound}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
