// Options from the environment, as containers and systemd units pass them (docs/DEPLOY.md).
// Every variable is optional here; start() still requires what it requires. A bad value throws
// EnvVariableError naming the variable.
import { EnvVariableError, InvalidOptionError } from './errors.js';
import { checkAdvertise } from './advertise.js';
import { parseSeeds, type SeedSource } from './seeds.js';
import { readTextFile } from './system-net.js';
import type { TlsOptions } from './tls.js';

/** The variables fromEnv() reads, with the option each one sets. */
export const ENV_VARIABLES = {
  TRELLIS_SCOPE: 'scope',
  TRELLIS_NAME: 'name',
  TRELLIS_LISTEN: 'listen',          // HOST:PORT, [IPv6]:PORT
  TRELLIS_ADVERTISE: 'advertise',    // ws://10.0.0.5:4000
  TRELLIS_SEEDS: 'seeds',            // comma-separated ws://, wss://, dns+ws://NAME:PORT
  TRELLIS_SECRET: 'secret',
  TRELLIS_SECRET_FILE: 'secret',     // a file holding the secret (a mounted container secret)
  TRELLIS_TLS_CERT_FILE: 'tls.cert', // PEM files; cert and key together
  TRELLIS_TLS_KEY_FILE: 'tls.key',
  TRELLIS_TLS_CA_FILE: 'tls.ca',
} as const;
type Variable = keyof typeof ENV_VARIABLES;

export interface EnvOptions {
  scope?: string;
  name?: string;
  listen?: { host: string; port: number };
  advertise?: string;
  seeds?: SeedSource[];
  secret?: string;
  tls?: TlsOptions;
}

const bad = (v: Variable, message: string) => new EnvVariableError(v, ENV_VARIABLES[v], message);

/** Parses HOST:PORT (IPv6 hosts in brackets). */
export function parseHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s);
  if (!m || Number(m[3]) > 65535) return undefined;
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}

/** The options set by TRELLIS_* variables in `env` (only those that are set and non-empty). */
export function fromEnv(env: Record<string, string | undefined>, readFile: (path: string) => string = readTextFile): EnvOptions {
  const get = (v: Variable): string | undefined => (env[v] === undefined || env[v] === '' ? undefined : env[v]);
  const file = (v: Variable, path: string): string => {
    try { return readFile(path); } catch (e) { throw bad(v, `cannot read ${path}: ${(e as { code?: string }).code ?? String(e)}`); }
  };
  const out: EnvOptions = {};
  const scope = get('TRELLIS_SCOPE'), name = get('TRELLIS_NAME');
  if (scope !== undefined) out.scope = scope;
  if (name !== undefined) out.name = name;
  const listen = get('TRELLIS_LISTEN');
  if (listen !== undefined) {
    out.listen = parseHostPort(listen);
    if (!out.listen) throw bad('TRELLIS_LISTEN', `must be HOST:PORT (e.g. 0.0.0.0:4000 or [::]:4000), got '${listen}'`);
  }
  const advertise = get('TRELLIS_ADVERTISE');
  if (advertise !== undefined) out.advertise = rethrow('TRELLIS_ADVERTISE', () => checkAdvertise(advertise));
  const seeds = get('TRELLIS_SEEDS');
  if (seeds !== undefined) {
    const list = seeds.split(',').map((s) => s.trim()).filter(Boolean);
    for (const s of list) if (!/^(dns\+)?wss?:\/\//.test(s)) throw bad('TRELLIS_SEEDS', `'${s}' is not a ws://, wss:// or dns+ws:// address`);
    rethrow('TRELLIS_SEEDS', () => parseSeeds(list));
    out.seeds = list;
  }
  const secret = get('TRELLIS_SECRET'), secretFile = get('TRELLIS_SECRET_FILE');
  if (secret !== undefined && secretFile !== undefined) throw bad('TRELLIS_SECRET_FILE', 'set either TRELLIS_SECRET or TRELLIS_SECRET_FILE, not both');
  if (secret !== undefined) out.secret = secret;
  if (secretFile !== undefined) {
    // A secret file written by `echo` ends in a newline that is not part of the secret.
    out.secret = file('TRELLIS_SECRET_FILE', secretFile).replace(/\r?\n$/, '');
    if (!out.secret) throw bad('TRELLIS_SECRET_FILE', `${secretFile} is empty`);
  }
  const cert = get('TRELLIS_TLS_CERT_FILE'), key = get('TRELLIS_TLS_KEY_FILE'), ca = get('TRELLIS_TLS_CA_FILE');
  if ((cert === undefined) !== (key === undefined)) throw bad(cert === undefined ? 'TRELLIS_TLS_CERT_FILE' : 'TRELLIS_TLS_KEY_FILE', 'TRELLIS_TLS_CERT_FILE and TRELLIS_TLS_KEY_FILE go together');
  if (ca !== undefined && cert === undefined) throw bad('TRELLIS_TLS_CA_FILE', 'needs TRELLIS_TLS_CERT_FILE and TRELLIS_TLS_KEY_FILE');
  if (cert !== undefined && key !== undefined) {
    out.tls = { cert: file('TRELLIS_TLS_CERT_FILE', cert), key: file('TRELLIS_TLS_KEY_FILE', key) };
    if (ca !== undefined) out.tls.ca = file('TRELLIS_TLS_CA_FILE', ca);
  }
  return out;
}

function rethrow<T>(v: Variable, fn: () => T): T {
  try { return fn(); } catch (e) {
    if (e instanceof InvalidOptionError) throw bad(v, e.message.replace(/^[^:]+: /, ''));
    throw e;
  }
}
