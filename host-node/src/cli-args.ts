// Parsing of `trellis node ...` arguments into start() options. Kept apart from the CLI's I/O
// so it can be tested and reused.
import { InvalidOptionError, parseHostPort, type EnvOptions, type SeedSource, type TlsOptions } from '@trellis/core';
import { configArgs } from './cli-config.js';
import { LOG_FORMATS, type LogFormat } from './cli-log.js';

export const USAGE = `Usage:
  trellis node --scope S --listen HOST:PORT [--seeds URL,...] --kinds ./kinds.js [options]
  trellis node --config trellis.json [options]
  trellis status ws://HOST:PORT --scope S (--secret-env NAME | --credential-env NAME | ...) [--json]
  trellis dashboard ws://HOST:PORT --scope S --listen HOST:PORT (--secret-env NAME | ...) [--actions]
  trellis credential --scope S --name NAME --expires 1h [--kinds K,...] (--secret-env NAME | ...)
  trellis --help

Runs one Trellis node until SIGINT/SIGTERM, then leaves the cluster gracefully
(its children are handed over to other members before the process exits).

Options:
  --scope S              cluster scope (nodes of one scope form one cluster)       [required]
  --listen HOST:PORT     where to accept links (port 0 = any free port)            [required]
  --seeds URL,...        ws://, wss:// or dns+ws://NAME:PORT seeds to join through (one is enough)
  --advertise URL        the address other members dial (needed with a wildcard listen
                         on a machine with several addresses)
  --kinds FILE           ES module exporting \`kinds\` (and optionally \`children\`)  [required]
  --name NAME            node name (default: hostname-pid)
  --secret-env NAME      read the cluster secret from environment variable NAME
  --secret-file PATH     read the cluster secret from a file (a mounted secret)
  --credential-env NAME  read a credential token (from mintCredential) from variable NAME
  --insecure             run without a secret: anyone who can connect can join
  --heartbeat-ms N       heartbeat interval (default 250)
  --failure-timeout-ms N declare a silent member lost after N ms (default 1000)
  --sync-interval-ms N   anti-entropy digest interval (default 1000)
  --partition MODE       what a member cut off from the others does (docs/DESIGN.md): available
                         (default: each side runs what it owns), majority (only a side holding
                         a majority of the known members runs children), or quorum:N (only a
                         side of at least N live members)
  --quorum N             the same as --partition quorum:N
  --weight W             relative share of children this node takes (default 1)
  --config FILE          read options from a JSON file: keys are these flags without the
                         dashes ({"scope": "s", "listen": "0.0.0.0:7000", "seeds": [...]});
                         a flag on the command line wins over the file
  --metrics PATH|PORT    serve Prometheus metrics at PATH of the --listen server (/metrics),
                         or on PORT of their own (127.0.0.1)
  --dashboard PATH       serve a live dashboard page at PATH of the --listen server
  --dashboard-actions    let the page terminate children and cordon, uncordon or drain members,
                         for requests bearing an operator credential (trellis credential);
                         needs the secret (off without this flag)
  --log json|pretty      log every cluster event on stdout, as one JSON object per line
                         or as one readable line
  --events               the same as --log json
  --help                 show this text

trellis status joins the cluster at the given seed(s) for a moment as a member that advertises
no kinds (so nothing is placed on it), waits until it has every member's claims, prints the
members (itself excluded) and the children with where each runs, and leaves. It needs the
cluster's secret or a credential like any member; --json prints { members, children }.
Status options: --scope, --secret-env, --secret-file, --credential-env, --insecure, --name,
  --json, --timeout-ms N (give up after N ms, default 10000).

trellis dashboard joins the same way (no kinds, so nothing runs on it), serves the dashboard page
at http://HOST:PORT/dashboard/ of its --listen address until SIGINT/SIGTERM, then leaves;
--actions enables the page's actions as --dashboard-actions does.

trellis credential prints a credential token minted with the cluster secret for NAME, valid for
--expires (a number of ms, or 30s, 15m, 1h, 7d): paste it in a dashboard page to act as operator
NAME, or give it to a member that must not hold the secret (--credential-env), which may then
advertise at most the --kinds listed. Options: --scope, --name, --expires, --kinds, --secret-env,
--secret-file.

Environment (a flag wins over its variable): TRELLIS_SCOPE, TRELLIS_NAME, TRELLIS_LISTEN,
TRELLIS_ADVERTISE, TRELLIS_SEEDS, TRELLIS_SECRET or TRELLIS_SECRET_FILE, TRELLIS_TLS_CERT_FILE,
TRELLIS_TLS_KEY_FILE, TRELLIS_TLS_CA_FILE (docs/DEPLOY.md).

The kinds module looks like:
  export const kinds = { 'service-monitor': { run: async (args, ctx) => { ... } } };
  export const children = [{ id: 'monitor:1', kind: 'service-monitor', args: {} }];
`;

export interface CliNodeArgs {
  scope: string;
  listen: { host: string; port: number };
  seeds: SeedSource[];
  kindsFile: string;
  advertise?: string;
  secretFile?: string;
  /** Set only from the environment (TRELLIS_SECRET, TRELLIS_SECRET_FILE). */
  secret?: string;
  tls?: TlsOptions;
  name?: string;
  secretEnv?: string;
  credentialEnv?: string;
  insecure: boolean;
  heartbeatMs?: number;
  failureTimeoutMs?: number;
  syncIntervalMs?: number;
  quorum?: number;
  /** --partition (or --quorum N, as { quorum: N }): start()'s `partition`. */
  partition?: Partition;
  weight?: number;
  log?: LogFormat;
  metrics?: { path: string } | { port: number };
  dashboard?: { path: string };
  dashboardActions: boolean;
}

export interface CliStatusArgs {
  scope: string;
  seeds: string[];
  secret?: string;
  secretEnv?: string;
  secretFile?: string;
  credentialEnv?: string;
  insecure: boolean;
  name?: string;
  json: boolean;
  timeoutMs: number;
  /** `trellis dashboard` only: where the page is served, and whether its actions are on. */
  listen?: { host: string; port: number };
  actions: boolean;
}

export interface CliCredentialArgs {
  scope: string;
  name: string;
  expiresInMs: number;
  kinds: string[];
  secret?: string;
  secretEnv?: string;
  secretFile?: string;
}

export type CliCommand =
  | { command: 'help' } | { command: 'node'; args: CliNodeArgs } | { command: 'status' | 'dashboard'; args: CliStatusArgs }
  | { command: 'credential'; args: CliCredentialArgs };

const FLAGS: Record<string, keyof CliNodeArgs | 'help'> = {
  '--scope': 'scope', '--listen': 'listen', '--seeds': 'seeds', '--kinds': 'kindsFile', '--name': 'name',
  '--secret-env': 'secretEnv', '--credential-env': 'credentialEnv', '--insecure': 'insecure', '--heartbeat-ms': 'heartbeatMs', '--failure-timeout-ms': 'failureTimeoutMs',
  '--sync-interval-ms': 'syncIntervalMs', '--quorum': 'quorum', '--partition': 'partition', '--weight': 'weight', '--events': 'log', '--log': 'log', '--help': 'help',
  '--advertise': 'advertise', '--secret-file': 'secretFile', '--metrics': 'metrics', '--dashboard': 'dashboard', '--dashboard-actions': 'dashboardActions',
};
const SWITCHES = new Set(['--insecure', '--events', '--help', '--dashboard-actions']);
const shapeOf = (flag: string): 'switch' | 'value' | undefined => (FLAGS[flag] ? (SWITCHES.has(flag) ? 'switch' : 'value') : undefined);

/** `argv` with a `--config FILE` replaced by the file's arguments, placed first so that flags win. */
function expandConfig(argv: string[]): string[] {
  const at = argv.indexOf('--config');
  if (at < 0) return argv;
  const file = argv[at + 1];
  if (file === undefined) throw new InvalidOptionError('--config', 'needs a value');
  if (argv.indexOf('--config', at + 2) >= 0) throw new InvalidOptionError('--config', 'give one config file');
  return [argv[0], ...configArgs(file, shapeOf), ...argv.slice(1, at), ...argv.slice(at + 2)];
}

/** start()'s `partition` option. */
export type Partition = 'available' | 'majority' | { quorum: number };

/** `--partition available|majority|quorum:N`; throws InvalidOptionError naming the flag and the bad value. */
export function parsePartition(flag: string, v: string): Partition {
  if (v === 'available' || v === 'majority') return v;
  const m = /^quorum:(\d+)$/.exec(v);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidOptionError(flag, `must be available, majority or quorum:N with N >= 1, got '${v}'`);
  return { quorum: n };
}

function num(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidOptionError(flag, `must be a number, got '${v}'`);
  return n;
}

/**
 * Returns 'help', or the parsed node arguments, with what the flags leave unset taken from `env`
 * (fromEnv()); throws InvalidOptionError naming the flag.
 */
export function parseArgs(argv: string[], env: EnvOptions = {}): 'help' | CliNodeArgs {
  if (argv.length === 0 || argv.includes('--help') || argv[0] === 'help') return 'help';
  if (argv[0] !== 'node') throw new InvalidOptionError('command', `unknown command '${argv[0]}' (expected 'node', 'status', 'dashboard' or 'credential')`);
  argv = expandConfig(argv);
  const out: Partial<CliNodeArgs> = { insecure: false, dashboardActions: false };
  for (let i = 1; i < argv.length; i++) {
    const flag = argv[i];
    const key = FLAGS[flag];
    if (!key) throw new InvalidOptionError(flag, 'unknown flag');
    if (flag === '--events') { out.log = 'json'; continue; }
    if (key === 'insecure' || key === 'dashboardActions') { out[key] = true; continue; }
    const v = argv[++i];
    if (v === undefined) throw new InvalidOptionError(flag, 'needs a value');
    switch (key) {
      case 'dashboard': out.dashboard = { path: v }; break;
      case 'metrics':
        out.metrics = v.startsWith('/') ? { path: v } : { port: num(flag, v) };
        break;
      case 'log':
        if (!(LOG_FORMATS as readonly string[]).includes(v)) throw new InvalidOptionError(flag, `must be ${LOG_FORMATS.join(' or ')}, got '${v}'`);
        out.log = v as LogFormat;
        break;
      case 'listen': {
        out.listen = parseHostPort(v);
        if (!out.listen) throw new InvalidOptionError(flag, `must be HOST:PORT, got '${v}'`);
        break;
      }
      case 'seeds': out.seeds = v.split(',').map((s) => s.trim()).filter(Boolean); break;
      case 'partition': out.partition = parsePartition(flag, v); break;
      case 'quorum': {
        const n = num(flag, v);
        if (!Number.isSafeInteger(n) || n < 1) throw new InvalidOptionError(flag, `must be an integer >= 1, got '${v}'`);
        out.quorum = n;
        break;
      }
      case 'heartbeatMs': case 'failureTimeoutMs': case 'syncIntervalMs': case 'weight':
        out[key] = num(flag, v); break;
      default: (out as Record<string, unknown>)[key] = v;
    }
  }
  out.scope ??= env.scope;
  out.name ??= env.name;
  out.listen ??= env.listen;
  out.advertise ??= env.advertise;
  out.seeds ??= env.seeds ?? [];
  out.tls = env.tls;
  if (out.secretEnv === undefined && out.secretFile === undefined) out.secret = env.secret;
  if (!out.scope) throw new InvalidOptionError('--scope', 'is required (or set TRELLIS_SCOPE)');
  if (!out.listen) throw new InvalidOptionError('--listen', 'is required (or set TRELLIS_LISTEN)');
  if (!out.kindsFile) throw new InvalidOptionError('--kinds', 'is required');
  if (out.dashboardActions && !out.dashboard) throw new InvalidOptionError('--dashboard-actions', 'needs --dashboard PATH');
  if (out.quorum !== undefined) {
    if (out.partition !== undefined) throw new InvalidOptionError('--partition', 'give --partition or --quorum, not both');
    out.partition = { quorum: out.quorum };
  }
  return out as CliNodeArgs;
}

const STATUS_FLAGS: Record<string, keyof CliStatusArgs> = {
  '--scope': 'scope', '--secret-env': 'secretEnv', '--secret-file': 'secretFile', '--credential-env': 'credentialEnv',
  '--insecure': 'insecure', '--name': 'name', '--json': 'json', '--timeout-ms': 'timeoutMs', '--listen': 'listen', '--actions': 'actions',
};
const STATUS_TIMEOUT_MS_DEFAULT = 10_000;

/** `trellis status|dashboard URL[,URL...] [options]`; throws InvalidOptionError naming the flag. */
export function parseStatusArgs(argv: string[], env: EnvOptions = {}): CliStatusArgs {
  const out: Partial<CliStatusArgs> = { insecure: false, json: false, actions: false, seeds: [], timeoutMs: STATUS_TIMEOUT_MS_DEFAULT };
  for (let i = 1; i < argv.length; i++) {
    const flag = argv[i];
    if (!flag.startsWith('--')) { out.seeds!.push(...flag.split(',').map((s) => s.trim()).filter(Boolean)); continue; }
    const key = STATUS_FLAGS[flag];
    if (!key) throw new InvalidOptionError(flag, 'unknown flag for trellis status');
    if (key === 'actions' && argv[0] !== 'dashboard') throw new InvalidOptionError(flag, 'is for trellis dashboard');
    if (key === 'insecure' || key === 'json' || key === 'actions') { out[key] = true; continue; }
    const v = argv[++i];
    if (v === undefined) throw new InvalidOptionError(flag, 'needs a value');
    if (key === 'listen') {
      if (argv[0] !== 'dashboard') throw new InvalidOptionError(flag, 'is for trellis dashboard');
      out.listen = parseHostPort(v);
      if (!out.listen) throw new InvalidOptionError(flag, `must be HOST:PORT, got '${v}'`);
    } else if (key === 'timeoutMs') {
      out.timeoutMs = num(flag, v);
      if (out.timeoutMs <= 0) throw new InvalidOptionError(flag, 'must be a positive number of milliseconds');
    } else (out as Record<string, unknown>)[key] = v;
  }
  out.scope ??= env.scope;
  if (out.seeds!.length === 0) out.seeds = (env.seeds ?? []).filter((s): s is string => typeof s === 'string');
  if (out.secretEnv === undefined && out.secretFile === undefined) out.secret = env.secret;
  if (out.seeds!.length === 0) throw new InvalidOptionError('address', 'give the ws:// or wss:// address of a member (or set TRELLIS_SEEDS)');
  if (!out.scope) throw new InvalidOptionError('--scope', 'is required (or set TRELLIS_SCOPE)');
  if (argv[0] === 'dashboard') out.listen ??= env.listen;
  if (argv[0] === 'dashboard' && !out.listen) throw new InvalidOptionError('--listen', 'is required: where the dashboard is served');
  return out as CliStatusArgs;
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '90000', '30s', '15m', '1h', '7d' in milliseconds; throws InvalidOptionError naming `flag`. */
export function parseDurationMs(flag: string, v: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v);
  const ms = m ? Number(m[1]) * DURATION_UNITS_MS[m[2] ?? 'ms'] : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new InvalidOptionError(flag, `must be a positive duration like 90000, 30s, 15m, 1h or 7d, got '${v}'`);
  return ms;
}

const CREDENTIAL_FLAGS: Record<string, keyof CliCredentialArgs> = {
  '--scope': 'scope', '--name': 'name', '--expires': 'expiresInMs', '--kinds': 'kinds', '--secret-env': 'secretEnv', '--secret-file': 'secretFile',
};

/** `trellis credential --scope S --name N --expires D [--kinds K,...]`; throws InvalidOptionError naming the flag. */
export function parseCredentialArgs(argv: string[], env: EnvOptions = {}): CliCredentialArgs {
  const out: Partial<CliCredentialArgs> = { kinds: [] };
  for (let i = 1; i < argv.length; i++) {
    const flag = argv[i];
    const key = CREDENTIAL_FLAGS[flag];
    if (!key) throw new InvalidOptionError(flag, 'unknown flag for trellis credential');
    const v = argv[++i];
    if (v === undefined) throw new InvalidOptionError(flag, 'needs a value');
    if (key === 'expiresInMs') out.expiresInMs = parseDurationMs(flag, v);
    else if (key === 'kinds') out.kinds = v.split(',').map((k) => k.trim()).filter(Boolean);
    else (out as Record<string, unknown>)[key] = v;
  }
  out.scope ??= env.scope;
  if (out.secretEnv === undefined && out.secretFile === undefined) out.secret = env.secret;
  if (!out.scope) throw new InvalidOptionError('--scope', 'is required (or set TRELLIS_SCOPE)');
  if (!out.name) throw new InvalidOptionError('--name', 'is required: the name the credential is for');
  if (out.expiresInMs === undefined) throw new InvalidOptionError('--expires', 'is required, e.g. --expires 1h');
  return out as CliCredentialArgs;
}

/** The command `argv` asks for, with its arguments; throws InvalidOptionError naming the flag. */
export function parseCommand(argv: string[], env: EnvOptions = {}): CliCommand {
  if ((argv[0] === 'status' || argv[0] === 'dashboard') && !argv.includes('--help')) return { command: argv[0], args: parseStatusArgs(argv, env) };
  if (argv[0] === 'credential' && !argv.includes('--help')) return { command: 'credential', args: parseCredentialArgs(argv, env) };
  const a = parseArgs(argv, env);
  return a === 'help' ? { command: 'help' } : { command: 'node', args: a };
}
