// The system resolver and the machine's interface addresses, for the hosts that have them (Node
// and Bun both expose node:dns and node:os through process.getBuiltinModule). Reached at run time
// rather than imported, so the runtime stays loadable where neither exists (a browser tab).

/** Every address the system resolver (getaddrinfo: /etc/hosts, DNS) returns for `name`. */
export type Lookup = (name: string, family: 0 | 4 | 6) => Promise<string[]>;

interface NodeDns { lookup(name: string, o: { all: true; family: number }, cb: (e: Error | null, a: { address: string }[]) => void): void }
interface NodeOs { networkInterfaces(): Record<string, { address: string; family: string | number; internal: boolean }[] | undefined> }

function builtin<T>(name: string): T | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (n: string) => unknown } }).process;
  return p?.getBuiltinModule?.(name) as T | undefined;
}

/** The system resolver, or undefined where there is none. */
export function systemLookup(): Lookup | undefined {
  const dns = builtin<NodeDns>('node:dns');
  if (!dns) return undefined;
  return (name, family) => new Promise((resolve, reject) => {
    dns.lookup(name, { all: true, family }, (e, a) => (e ? reject(e) : resolve(a.map((x) => x.address))));
  });
}

/** The machine's non-loopback IPv4 addresses (empty where they cannot be read). */
export function externalIpv4Addresses(): string[] {
  const os = builtin<NodeOs>('node:os');
  if (!os) return [];
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && (a.family === 'IPv4' || a.family === 4)) out.push(a.address);
  }
  return out;
}

interface NodeFs { readFileSync(path: string, enc: 'utf8'): string }

/** Reads a text file (secrets and certificates named by environment variables). */
export function readTextFile(path: string): string {
  const fs = builtin<NodeFs>('node:fs');
  if (!fs) throw Object.assign(new Error('this host cannot read files'), { code: 'no_fs' });
  return fs.readFileSync(path, 'utf8');
}
