// Checking a renewed credential before the core takes it (docs/SECURITY.md "Renewal"): the same
// scope, name and kinds as the credential the member holds, and a later expiry that has not
// passed. Its key is checked by the members the renewal reaches (MSG_RENEW), not here.
import { decodeCredentialToken, type CredentialToken } from './credential.js';
import { InvalidOptionError } from './errors.js';

export function renewedCredential(current: CredentialToken | undefined, token: unknown, nowMs: number): CredentialToken {
  if (!current) throw new InvalidOptionError('credential', 'only a member started with a credential can renew it');
  const c = typeof token === 'string' ? decodeCredentialToken(token) : null;
  if (!c) throw new InvalidOptionError('credential', 'must be a credential token from mintCredential()');
  if (c.scope !== current.scope) throw new InvalidOptionError('credential', `is for scope '${c.scope}', not '${current.scope}'`);
  if (c.name !== current.name) throw new InvalidOptionError('credential', `is for '${c.name}', not '${current.name}'`);
  if (c.kinds.length !== current.kinds.length || c.kinds.some((k, i) => k !== current.kinds[i])) throw new InvalidOptionError('credential', 'must allow the same kinds as the credential it renews');
  if (c.expiresAtMs <= current.expiresAtMs) throw new InvalidOptionError('credential', 'must expire later than the credential it renews');
  if (c.expiresAtMs <= nowMs) throw new InvalidOptionError('credential', `expired at ${new Date(c.expiresAtMs).toISOString()}`);
  return c;
}
