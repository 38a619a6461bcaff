// Parsing of `trellis node ...` arguments into start() options. Kept apart from the CLI's I/O
// so it can be tested and reused.
import { InvalidOptionError, parseHostPort, type EnvOptions, type SeedSource, type TlsOptions } from '@trellis/core';

export const USAGE = `Usage:
  trellis node --scope S --listen HOST:PORT [--seeds URL,...] --kinds ./kinds.js [options]
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
  --quorum N             run children only on a side with at least N live members
  --weight W             relative share of children this node takes (default 1)
  --events               print every cluster event as one JSON line on stdout
  --help                 show this text

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
  weight?: number;
  events: boolean;
}

const FLAGS: Record<string, keyof CliNodeArgs | 'help'> = {
  '--scope': 'scope', '--listen': 'listen', '--seeds': 'seeds', '--kinds': 'kindsFile', '--name': 'name',
  '--secret-env': 'secretEnv', '--credential-env': 'credentialEnv', '--insecure': 'insecure', '--heartbeat-ms': 'heartbeatMs', '--failure-timeout-ms': 'failureTimeoutMs',
  '--sync-interval-ms': 'syncIntervalMs', '--quorum': 'quorum', '--weight': 'weight', '--events': 'events', '--help': 'help',
};
FLAGS['--advertise'] = 'advertise';
FLAGS['--secret-file'] = 'secretFile';

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
  if (argv[0] !== 'node') throw new InvalidOptionError('command', `unknown command '${argv[0]}' (expected 'node')`);
  const out: Partial<CliNodeArgs> = { events: false, insecure: false };
  for (let i = 1; i < argv.length; i++) {
    const flag = argv[i];
    const key = FLAGS[flag];
    if (!key) throw new InvalidOptionError(flag, 'unknown flag');
    if (key === 'events') { out.events = true; continue; }
    if (key === 'insecure') { out.insecure = true; continue; }
    const v = argv[++i];
    if (v === undefined) throw new InvalidOptionError(flag, 'needs a value');
    switch (key) {
      case 'listen': {
        out.listen = parseHostPort(v);
        if (!out.listen) throw new InvalidOptionError(flag, `must be HOST:PORT, got '${v}'`);
        break;
      }
      case 'seeds': out.seeds = v.split(',').map((s) => s.trim()).filter(Boolean); break;
      case 'heartbeatMs': case 'failureTimeoutMs': case 'syncIntervalMs': case 'quorum': case 'weight':
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
  return out as CliNodeArgs;
}
