// What a member's dashboard answers, the same on every server host (host-node/src/dashboard-http.ts
// over node:http, host-bun/src/dashboard-bun.ts over Bun.serve; they only carry the requests):
// which request is which, the page's files, the event stream, and the actions. An action needs an
// operator's credential (`mintCredential`, `trellis credential`) as `Authorization: Bearer TOKEN`,
// checked against the cluster secret before anything is done (docs/SECURITY.md, "Dashboard actions").
import { InvalidOptionError } from './errors.js';
import type { Supervisor } from './supervisor.js';
import { DashboardFeed } from './dashboard-feed.js';
import { ACTIONS, runAction, type ActionAnswer, type ActionName } from './dashboard-actions.js';
import { checkTabCredential, credentialVerifierKey, type CredentialRefusal } from './gateway-credential.js';

export interface DashboardOptions {
  /** Where the page is served on the member's `listen` server, e.g. '/dashboard'. */
  path: string;
  /**
   * Let the page terminate children and cordon, uncordon or drain members (off unless given), for
   * requests bearing a credential minted with this cluster's secret; `{ names }` accepts only
   * credentials minted for those names. Needs `secret` (the member checks the credential with it).
   */
  actions?: boolean | { names: string[] };
}

/** Why an action is refused: off on this member, no credential, or the credential's check (gateway-credential.ts). */
export type DashboardRefusal = 'actions_off' | 'credential_missing' | 'credential_not_allowed' | Exclude<CredentialRefusal, 'credential_name'>;

/** The largest action request body read, in bytes. */
export const DASHBOARD_ACTION_BODY_BYTES_MAX = 4096;

/** The page's files (in core-as/dashboard) by the name under the page's path, with their content type. */
export const DASHBOARD_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

/** Where the page's files are, relative to this file (core-as/dist → core-as/dashboard). */
export const dashboardAssetsUrl = new URL('../dashboard/', import.meta.url);

interface CheckedActions { names: string[] | undefined }
export interface CheckedDashboard { path: string; actions: CheckedActions | undefined }

/** Checks the `dashboard` option against `listen` and the member's auth; throws InvalidOptionError naming the option. */
export function checkDashboardOptions(o: unknown, listen: unknown, secret: unknown): CheckedDashboard | undefined {
  if (o === undefined) return undefined;
  const p = (o as { path?: unknown } | null)?.path;
  if (typeof p !== 'string' || !p.startsWith('/') || p.endsWith('/')) throw new InvalidOptionError('dashboard.path', 'must be a path like /dashboard');
  if (listen === null || typeof listen !== 'object' || 'server' in listen) throw new InvalidOptionError('dashboard', 'needs listen: { host, port } (served by this node\'s server)');
  const a = (o as { actions?: unknown }).actions;
  if (a === undefined || a === false) return { path: p, actions: undefined };
  if (a !== true) {
    const names = (a as { names?: unknown } | null)?.names;
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && n.length > 0)) {
      throw new InvalidOptionError('dashboard.actions', 'must be true or { names: [credential names] }');
    }
  }
  if (secret === undefined) throw new InvalidOptionError('dashboard.actions', 'needs the cluster secret: the member checks each operator\'s credential with it');
  return { path: p, actions: { names: a === true ? undefined : [...(a as { names: string[] }).names] } };
}

/** What a request to the dashboard is; undefined when it is not the dashboard's. */
export type DashboardRoute =
  | { to: 'redirect'; location: string }
  | { to: 'file'; type: string; body: Uint8Array }
  | { to: 'events' }
  | { to: 'action'; name: ActionName }
  | { to: 'not_found' };

const refusal = (status: number, error: DashboardRefusal, message: string): ActionAnswer => ({ status, body: { error, message } });
const MESSAGES: Record<Exclude<CredentialRefusal, 'credential_name'>, string> = {
  credential_malformed: 'the credential is not a credential token (mint one with `trellis credential` or sup.mintCredential)',
  credential_scope: 'the credential is for another cluster scope',
  credential_expired: 'the credential has expired: mint a new one',
  credential_forged: 'the credential was not minted with this cluster\'s secret',
};

/** One member's dashboard: its page files, its feed, and its actions. */
export class DashboardService {
  readonly feed: DashboardFeed;
  private readonly files = new Map<string, { type: string; body: Uint8Array }>();
  private verifier: Promise<CryptoKey> | undefined;

  /**
   * `read` loads one of the page's files (the host's file API); `secret` and `scope` are the
   * member's, for checking credentials; `now` is the wall clock expiries are judged by.
   */
  constructor(
    readonly options: CheckedDashboard, private readonly sup: Supervisor, private readonly auth: { scope: string; secret: string | Uint8Array | undefined },
    read: (url: URL) => Uint8Array, private readonly now: () => number = Date.now,
  ) {
    for (const [name, f] of Object.entries(DASHBOARD_FILES)) this.files.set(name, { type: f.type, body: read(new URL(f.file, dashboardAssetsUrl)) });
    this.feed = new DashboardFeed(sup);
  }

  /** Which dashboard request `method pathname` is, if it is one. */
  route(method: string, pathname: string): DashboardRoute | undefined {
    const path = this.options.path;
    if (pathname !== path && !pathname.startsWith(path + '/')) return undefined;
    const rest = pathname.slice(path.length + 1);
    if (method === 'POST' && rest.startsWith('actions/')) {
      const name = rest.slice('actions/'.length) as ActionName;
      return ACTIONS.includes(name) ? { to: 'action', name } : { to: 'not_found' };
    }
    if (method !== 'GET') return undefined;
    if (pathname === path) return { to: 'redirect', location: path + '/' };
    if (rest === 'events') return { to: 'events' };
    const f = this.files.get(rest);
    return f ? { to: 'file', ...f } : { to: 'not_found' };
  }

  /** The first message of every event stream: whether the page offers actions. */
  configMessage(): string { return JSON.stringify({ t: 'config', actions: this.options.actions !== undefined }); }

  /**
   * Runs action `name` for a request with this `Authorization` header, once its credential is
   * checked; `readBody` gives the request's JSON text (undefined when over DASHBOARD_ACTION_BODY_BYTES_MAX)
   * and is called only for a request that may act.
   */
  async act(name: ActionName, authorization: string | null | undefined, readBody: () => Promise<string | undefined>): Promise<ActionAnswer> {
    const refused = await this.check(authorization);
    if (refused) return refused;
    const text = await readBody();
    if (text === undefined) return { status: 413, body: { error: 'invalid_request', message: `the body is over ${DASHBOARD_ACTION_BODY_BYTES_MAX} bytes` } };
    let body: unknown;
    try { body = JSON.parse(text); } catch { /* runAction answers 400 */ }
    return runAction(this.sup, name, body);
  }

  /** Undefined when the request bears an operator's credential valid for this cluster now, else the refusal. */
  private async check(authorization: string | null | undefined): Promise<ActionAnswer | undefined> {
    const actions = this.options.actions;
    const secret = this.auth.secret;
    if (!actions || secret === undefined) return refusal(403, 'actions_off', 'dashboard actions are not enabled on this member');
    const m = /^Bearer ([A-Za-z0-9_-]+)$/i.exec((authorization ?? '').trim());
    if (!m) return refusal(401, 'credential_missing', 'needs an operator credential as Authorization: Bearer <token> (mint one with `trellis credential`)');
    this.verifier ??= credentialVerifierKey(typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);
    const c = await checkTabCredential(await this.verifier, this.auth.scope, m[1], undefined, this.now());
    if (!c.ok) return refusal(401, c.reason as Exclude<CredentialRefusal, 'credential_name'>, MESSAGES[c.reason as Exclude<CredentialRefusal, 'credential_name'>]);
    if (actions.names && !actions.names.includes(c.name)) return refusal(403, 'credential_not_allowed', `credential '${c.name}' may not act on this member's dashboard`);
    return undefined;
  }
}

/** One Server-Sent Events message carrying `json`. */
export const sseData = (json: string): string => `data: ${json}\n\n`;
