#!/usr/bin/env node
// The `trellis` command: runs one node until SIGINT/SIGTERM, then leaves gracefully.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { TrellisError, InvalidOptionError, fromEnv } from '@trellis/core';
import { parseArgs, USAGE } from './cli-args.js';
import { start } from './start.js';

function readSecretFile(path: string): string {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new InvalidOptionError('--secret-file', `cannot read ${path}: ${(e as { code?: string }).code}`); }
  return text.replace(/\r?\n$/, '');
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2), fromEnv(process.env));
  if (parsed === 'help') { process.stdout.write(USAGE); return 0; }
  const mod = await import(pathToFileURL(resolve(parsed.kindsFile)).href);
  const kinds = mod.kinds ?? mod.default?.kinds ?? mod.default;
  let secret = parsed.secretEnv ? process.env[parsed.secretEnv] : parsed.secret;
  if (parsed.secretEnv && !secret) throw new TrellisError('invalid_option', `--secret-env: environment variable ${parsed.secretEnv} is not set`);
  if (parsed.secretFile) secret = readSecretFile(parsed.secretFile);
  const credential = parsed.credentialEnv ? process.env[parsed.credentialEnv] : undefined;
  if (parsed.credentialEnv && !credential) throw new TrellisError('invalid_option', `--credential-env: environment variable ${parsed.credentialEnv} is not set`);
  const sup = await start({
    scope: parsed.scope, name: parsed.name, listen: parsed.listen, advertise: parsed.advertise, seeds: parsed.seeds, secret, credential,
    insecure: parsed.insecure || undefined, tls: parsed.tls, kinds,
    children: mod.children, heartbeatMs: parsed.heartbeatMs, failureTimeoutMs: parsed.failureTimeoutMs,
    syncIntervalMs: parsed.syncIntervalMs, weight: parsed.weight,
    partition: parsed.quorum ? { quorum: parsed.quorum } : undefined,
  });
  if (parsed.events) sup.on('event', (e) => process.stdout.write(JSON.stringify(e) + '\n'));
  process.stderr.write(`trellis: node ${sup.name} listening on ${sup.address}\n`);
  await new Promise<void>((done) => {
    const leave = () => { process.stderr.write(`trellis: ${sup.name} leaving\n`); sup.stop().then(done, done); };
    process.once('SIGINT', leave);
    process.once('SIGTERM', leave);
  });
  return 0;
}

main().then((code) => process.exit(code), (e: unknown) => {
  const err = e as Error;
  process.stderr.write(`trellis: ${err.name}: ${err.message}\n`);
  process.exit(2);
});
