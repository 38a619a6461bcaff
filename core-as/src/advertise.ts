// The address a node gossips and peers dial: `advertise` when given, else the address it listens
// on. A wildcard bind (0.0.0.0, ::) is not an address another machine can dial, so it is resolved
// only when that is unambiguous: the machine has exactly one non-loopback IPv4 address (a
// container's eth0, a single-homed server). Anything else needs `advertise`.
import { InvalidOptionError } from './errors.js';
import { listenAddress } from './websocket.js';

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** Validates `advertise`: a ws:// or wss:// URL with a host (and a port unless 80 / 443), and no path. */
export function checkAdvertise(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  let url: URL | undefined;
  try { url = typeof v === 'string' ? new URL(v) : undefined; } catch { url = undefined; }
  if (!url || (url.protocol !== 'ws:' && url.protocol !== 'wss:') || !url.hostname || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new InvalidOptionError('advertise', `must be a ws:// or wss:// URL with a host and a port and no path, e.g. ws://10.0.0.5:4000, got ${JSON.stringify(v)}`);
  }
  if (WILDCARDS.has(url.hostname)) throw new InvalidOptionError('advertise', `must name an address peers can dial, not the wildcard ${url.hostname}`);
  return `${url.protocol}//${url.host}`;
}

/**
 * The address to gossip for a node that listens on `bound` (what its transport reports, undefined
 * when it does not listen). `externalIpv4` lists the machine's non-loopback IPv4 addresses.
 */
export function advertisedAddress(bound: string | undefined, advertise: string | undefined, externalIpv4: () => string[]): string | undefined {
  if (advertise !== undefined) {
    if (bound === undefined) throw new InvalidOptionError('advertise', 'needs listen: a node that does not listen has no address to advertise');
    return advertise;
  }
  if (bound === undefined) return undefined;
  const url = new URL(bound);
  if (!WILDCARDS.has(url.hostname)) return bound;
  const ips = externalIpv4();
  const tls = url.protocol === 'wss:';
  if (ips.length === 1) return listenAddress(tls, ips[0], Number(url.port || (tls ? 443 : 80)));
  throw new InvalidOptionError('advertise',
    `listen binds the wildcard ${url.hostname}, which other machines cannot dial, and this machine has ${ips.length} non-loopback IPv4 addresses` +
    `${ips.length ? ` (${ips.join(', ')})` : ''}: set advertise to the URL other members dial, e.g. ${url.protocol}//${ips[0] ?? '10.0.0.5'}:${url.port}`);
}
