// `trellis credential`: mints a credential token with the cluster secret, through the same
// `mintCredential` a running member offers, in a member that starts, mints and stops at once
// (no listen, no seeds: it joins nothing and nothing is placed on it).
import { InvalidOptionError } from '@trellis/core';
import type { CliCredentialArgs } from './cli-args.js';
import { start } from './start.js';

/** The token for `a.name` and `a.kinds`, valid for `a.expiresInMs` from now. */
export async function mintCredential(a: CliCredentialArgs, secret: string | undefined): Promise<string> {
  if (!secret) throw new InvalidOptionError('--secret-env', 'a credential is minted with the cluster secret: give --secret-env NAME, --secret-file PATH or TRELLIS_SECRET');
  const sup = await start({ scope: a.scope, name: `credential-${process.pid}`, secret, kinds: {} });
  try {
    return sup.mintCredential({ name: a.name, kinds: a.kinds, expiresInMs: a.expiresInMs });
  } finally {
    await sup.kill();
  }
}
