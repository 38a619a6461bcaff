// Claims across a duplicate link (core-as/assembly/claims.ts onClaims). When a member's second
// link wins, its claims snapshot goes on the new link, in parts when it is large, while deltas it
// sent earlier on the retired link may still be arriving. Such a delta continued the receiver's
// version, so it was applied between the parts; its claims carried no part's mark and the last
// part dropped them, then set the snapshot's version: the receiver's view lacked those claims
// with a version that matched the sender's, so no DIGEST asked again. sync-frames.test.ts caught
// it at 100,000 children: newcomers c and d each missed about a thousand of the other's claims
// (claims that changed from starting to running during the handoffs), and their state digests
// never converged.
import { describe, it, expect } from 'vitest';
import { World } from '../src/sim/world.js';
import { wasmModule } from './support.js';
import { MSG, MSG_LINK_RETIRE, type Value } from '../src/protocol.js';
import { rawMember, type RawMemberLink } from './raw-member.js';

const secret = new TextEncoder().encode('claims duplicate-link secret');
/** CLAIMS kinds and claim statuses (claims.ts, model.ts). */
const DELTA = 0, FIRST = 2, LAST = 4;
const STARTING = 1, RUNNING = 2, RELEASED = 0;

type Claim = [string, number, number, number];
const claim = (id: string, status: number): Claim => [id, status, 1, 0];

/** x's CLAIMS frame on `l`. */
const claims = (l: RawMemberLink, kind: number, base: number, version: number, cs: Claim[]) =>
  l.send({ type: MSG.CLAIMS, fields: [kind, BigInt(base), BigInt(version), cs as Value[]] });

const claimsOfX = (w: World) => w.node('c').core.members().find((m) => m.name === 'x')?.children;

describe('claims across a duplicate link (simulator)', () => {
  it('a delta late on the retired link, between the parts of the snapshot on the new one, is already in the snapshot and drops none of its claims', () => {
    const w = new World(wasmModule, 11);
    w.addNode('c', { secret });
    const x = rawMember(w, 'c', secret);
    // First link: x's claims at version 1.
    const one = x.open();
    claims(one, 1, 0, 1, [claim('k0', STARTING)]);
    expect(claimsOfX(w)).toBe(1);
    // Second link, the same incarnation: c keeps the newer (both dialed by x) and retires the first.
    const two = x.open();
    expect(one.raw.received.some((f) => f[2] === MSG_LINK_RETIRE), 'c retired the first link').toBe(true);
    // x's snapshot at version 3 goes on the new link in parts; its delta 1→2 (k1 starting, since
    // running) was sent on the old link before and arrives between the parts.
    claims(two, FIRST, 0, 3, [claim('k0', RUNNING), claim('k1', RUNNING)]);
    claims(one, DELTA, 1, 2, [claim('k1', STARTING)]);
    claims(two, LAST, 0, 3, [claim('k2', RUNNING)]);
    expect(claimsOfX(w), 'every claim of the snapshot').toBe(3);
    // A delta after the snapshot applies; a later one on the old link, out of sequence, changes
    // nothing (it asks for the full set again, as any gap does).
    claims(two, DELTA, 3, 4, [claim('k0', RELEASED)]);
    expect(claimsOfX(w)).toBe(2);
    claims(one, DELTA, 2, 3, [claim('k0', RUNNING), claim('k9', STARTING)]);
    w.runFor(5);
    expect(claimsOfX(w)).toBe(2);
  });
});
