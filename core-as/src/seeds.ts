// Where a node finds members to join through. Seeds are static ws:// / wss:// URLs, DNS names
// (every address the system resolver returns, with a port and scheme: a Kubernetes headless
// service, a round-robin name), or functions returning addresses. Static URLs reach the core at
// init; DNS names and functions are read before init and again every sync interval, and what they
// add reaches the core as an addSeeds event.
import { InvalidOptionError } from './errors.js';
import { listenAddress } from './websocket.js';
import type { Lookup } from './system-net.js';
import { ADDRESS_BYTES_MAX, SEED_ADDRESSES_MAX, SEED_RESOLVE_TIMEOUT_MS } from './limits.js';

/** A DNS name whose addresses are seeds: `{ dns: 'members.svc', port: 4000, scheme: 'ws' }`, or the string `dns+ws://members.svc:4000`. */
export interface DnsSeed {
  dns: string;
  port: number;
  /** Default 'ws'. */
  scheme?: 'ws' | 'wss';
  /** Only IPv4 (4) or IPv6 (6) answers; default both (0). */
  family?: 0 | 4 | 6;
}
/** Returns seed addresses (ws:// or wss:// URLs); called before init and every sync interval. */
export type SeedFunction = () => Iterable<string> | Promise<Iterable<string>>;
export type SeedSource = string | DnsSeed | SeedFunction;
export type DynamicSeed = Required<DnsSeed> | SeedFunction;

/** A seed source that could not be read this time (the next sync interval tries again). */
export interface SeedFailure {
  /** `dns+ws://name:port`, or `function`. */
  source: string;
  /** The resolver's code (ENOTFOUND, EAI_AGAIN, ...), `timeout`, `thrown` or `not_an_address`. */
  code: string;
  message: string;
}

const DNS_URL = /^dns\+(wss?):\/\/([^/:?#\s]+):(\d+)\/?$/;

/** Parses `dns+ws://name:port` (or dns+wss://); undefined for any other string. */
export function parseDnsSeedUrl(s: string): DnsSeed | undefined {
  const m = DNS_URL.exec(s);
  return m ? { dns: m[2], port: Number(m[3]), scheme: m[1] as 'ws' | 'wss' } : undefined;
}

function checkDnsSeed(v: Record<string, unknown>, at: string): Required<DnsSeed> {
  if (typeof v.dns !== 'string' || v.dns.length === 0) throw new InvalidOptionError(`${at}.dns`, 'must be a host name');
  if (!Number.isInteger(v.port) || (v.port as number) < 1 || (v.port as number) > 65535) throw new InvalidOptionError(`${at}.port`, 'must be an integer in 1..65535');
  const scheme = v.scheme ?? 'ws';
  if (scheme !== 'ws' && scheme !== 'wss') throw new InvalidOptionError(`${at}.scheme`, "must be 'ws' or 'wss'");
  const family = v.family ?? 0;
  if (family !== 0 && family !== 4 && family !== 6) throw new InvalidOptionError(`${at}.family`, 'must be 0, 4 or 6');
  return { dns: v.dns, port: v.port as number, scheme, family };
}

const utf8 = new TextEncoder();

/** Splits `seeds` into static addresses and sources read at run time; throws InvalidOptionError naming the entry. */
export function parseSeeds(v: unknown): { fixed: string[]; dynamic: DynamicSeed[] } {
  const fixed: string[] = [], dynamic: DynamicSeed[] = [];
  if (v === undefined) return { fixed, dynamic };
  if (!Array.isArray(v)) throw new InvalidOptionError('seeds', 'must be an array of addresses, DNS seeds ({ dns, port, scheme }) or functions');
  v.forEach((s: unknown, i) => {
    const at = `seeds[${i}]`;
    if (typeof s === 'function') dynamic.push(s as SeedFunction);
    else if (typeof s === 'string' && s.startsWith('dns+')) {
      const d = parseDnsSeedUrl(s);
      if (!d) throw new InvalidOptionError(at, `must be dns+ws://NAME:PORT or dns+wss://NAME:PORT, got '${s}'`);
      dynamic.push(checkDnsSeed(d as unknown as Record<string, unknown>, at));
    } else if (typeof s === 'string' && s.length > 0) {
      // The core refuses an init whose addresses exceed its limit, counted in UTF-8 bytes.
      if (utf8.encode(s).length > ADDRESS_BYTES_MAX) throw new InvalidOptionError(at, `must be at most ${ADDRESS_BYTES_MAX} UTF-8 bytes`);
      fixed.push(s);
    } else if (s !== null && typeof s === 'object') dynamic.push(checkDnsSeed(s as Record<string, unknown>, at));
    else throw new InvalidOptionError(at, 'must be an address, a DNS seed ({ dns, port, scheme }) or a function');
  });
  return { fixed, dynamic };
}

const describe = (s: DynamicSeed): string => (typeof s === 'function' ? 'function' : `dns+${s.scheme}://${s.dns}:${s.port}`);

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'timeout' })), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Reads every dynamic seed source once: the addresses found (deduplicated, at most SEED_ADDRESSES_MAX) and what failed. */
export async function resolveSeeds(sources: readonly DynamicSeed[], lookup: Lookup | undefined): Promise<{ addresses: string[]; failures: SeedFailure[] }> {
  const found = new Set<string>();
  const failures: SeedFailure[] = [];
  await Promise.all(sources.map(async (s) => {
    try {
      if (typeof s === 'function') {
        for (const a of await withTimeout(Promise.resolve(s()), SEED_RESOLVE_TIMEOUT_MS)) {
          if (typeof a !== 'string' || !/^wss?:\/\//.test(a)) throw Object.assign(new Error(`not a ws:// or wss:// address: ${String(a)}`), { code: 'not_an_address' });
          found.add(a);
        }
      } else {
        if (!lookup) throw Object.assign(new Error('this host has no system resolver'), { code: 'no_resolver' });
        for (const ip of await withTimeout(lookup(s.dns, s.family), SEED_RESOLVE_TIMEOUT_MS)) found.add(listenAddress(s.scheme === 'wss', ip, s.port));
      }
    } catch (e) {
      const err = e as { code?: unknown; message?: unknown };
      failures.push({ source: describe(s), code: typeof err?.code === 'string' ? err.code : 'thrown', message: String(err?.message ?? e) });
    }
  }));
  return { addresses: [...found].slice(0, SEED_ADDRESSES_MAX), failures };
}
