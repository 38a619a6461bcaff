// The `trellis` command (host-node/bin/trellis.mjs loads it): `trellis node` runs one node until
// SIGINT/SIGTERM, then leaves gracefully; `trellis status` prints a running cluster's members and
// children; `trellis credential` prints a credential token. main() returns the exit code; errors are printed as `trellis: Name: message`.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { TrellisError, InvalidOptionError, fromEnv } from '@trellis/core';
import type { Supervisor } from '@trellis/core';
import { parseCommand, USAGE, type CliNodeArgs, type CliStatusArgs } from './cli-args.js';
import { formatEvent } from './cli-log.js';
import { formatStatus, readStatus } from './cli-status.js';
import { mintCredential } from './cli-credential.js';
import { start } from './start.js';

function readSecretFile(path: string): string {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new InvalidOptionError('--secret-file', `cannot read ${path}: ${(e as { code?: string }).code}`); }
  return text.replace(/\r?\n$/, '');
}

type AuthArgs = Pick<CliNodeArgs, 'secret' | 'secretEnv' | 'secretFile'> & { credentialEnv?: string };

/** The secret and credential the flags point at; a named variable that is unset is an error. */
function readAuth(a: AuthArgs): { secret?: string; credential?: string } {
  let secret = a.secretEnv ? process.env[a.secretEnv] : a.secret;
  if (a.secretEnv && !secret) throw new TrellisError('invalid_option', `--secret-env: environment variable ${a.secretEnv} is not set`);
  if (a.secretFile) secret = readSecretFile(a.secretFile);
  const credential = a.credentialEnv ? process.env[a.credentialEnv] : undefined;
  if (a.credentialEnv && !credential) throw new TrellisError('invalid_option', `--credential-env: environment variable ${a.credentialEnv} is not set`);
  return { secret, credential };
}

async function runNode(a: CliNodeArgs): Promise<number> {
  const mod = await import(pathToFileURL(resolve(a.kindsFile)).href);
  const kinds = mod.kinds ?? mod.default?.kinds ?? mod.default;
  const sup = await start({
    scope: a.scope, name: a.name, listen: a.listen, advertise: a.advertise, seeds: a.seeds, ...readAuth(a),
    insecure: a.insecure || undefined, tls: a.tls, kinds,
    children: mod.children, heartbeatMs: a.heartbeatMs, failureTimeoutMs: a.failureTimeoutMs,
    syncIntervalMs: a.syncIntervalMs, weight: a.weight, metrics: a.metrics, dashboard: a.dashboard && { ...a.dashboard, actions: a.dashboardActions || undefined },
    partition: a.partition,
  });
  const log = a.log;
  if (log) sup.on('event', (e) => process.stdout.write(formatEvent(log, sup.name, e, Date.now())));
  process.stderr.write(`trellis: node ${sup.name} listening on ${sup.address}\n`);
  if (sup.metricsUrl) process.stderr.write(`trellis: metrics at ${sup.metricsUrl}\n`);
  if (a.dashboard) process.stderr.write(`trellis: dashboard at ${dashboardUrl(sup, a.dashboard.path)}\n`);
  await untilSignal(sup);
  return 0;
}

const dashboardUrl = (sup: Supervisor, path: string) => `${sup.address!.replace(/^ws/, 'http')}${path}/`;

/** Runs until SIGINT/SIGTERM, then leaves the cluster gracefully. */
function untilSignal(sup: Supervisor): Promise<void> {
  return new Promise<void>((done) => {
    const leave = () => { process.stderr.write(`trellis: ${sup.name} leaving\n`); sup.stop().then(done, done); };
    process.once('SIGINT', leave);
    process.once('SIGTERM', leave);
  });
}

/** `trellis dashboard`: a member without kinds that serves the dashboard page. */
async function runDashboard(a: CliStatusArgs): Promise<number> {
  const auth = readAuth(a);
  const sup = await start({
    scope: a.scope, name: a.name ?? (auth.credential ? undefined : `dashboard-${process.pid}`), seeds: a.seeds, listen: a.listen,
    ...auth, insecure: a.insecure || undefined, kinds: {}, dashboard: { path: '/dashboard', actions: a.actions || undefined },
  });
  process.stdout.write(`trellis: dashboard at ${dashboardUrl(sup, '/dashboard')}\n`);
  await untilSignal(sup);
  return 0;
}

/** Runs the command `argv` (without node and script) asks for; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    const cmd = parseCommand(argv, fromEnv(process.env));
    if (cmd.command === 'help') { process.stdout.write(USAGE); return 0; }
    if (cmd.command === 'node') return await runNode(cmd.args);
    if (cmd.command === 'dashboard') return await runDashboard(cmd.args);
    if (cmd.command === 'credential') { process.stdout.write(await mintCredential(cmd.args, readAuth(cmd.args).secret) + '\n'); return 0; }
    const status = await readStatus(cmd.args, readAuth(cmd.args));
    process.stdout.write(cmd.args.json ? JSON.stringify(status) + '\n' : formatStatus(status));
    return 0;
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`trellis: ${err.name}: ${err.message}\n`);
    return 2;
  }
}
