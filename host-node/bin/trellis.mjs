#!/usr/bin/env node
// The `trellis` command as npm links it. It is committed (not built) because npm links a
// package's bins before the root `prepare` script builds dist/, and skips a bin whose file does
// not exist yet; this launcher only loads the built CLI.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('trellis: the CLI is not built yet (host-node/dist/cli.js is missing); run `npm run build` in the repository\n');
  process.exit(2);
}
const { main } = await import(cli.href);
process.exit(await main(process.argv.slice(2)));
