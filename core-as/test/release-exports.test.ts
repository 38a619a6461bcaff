// The release Wasm carries only what hosts use; probes, planted bugs and invariant checks are
// in the testing build alone, and there the invariants catch a deliberately broken one.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { releaseWasmUrl, type Effect } from '@trellis/core';
import { TestCore as Core, PlantedBug, testingWasmUrl } from '@trellis/core/testing';

const release = new WebAssembly.Module(readFileSync(releaseWasmUrl));
const testing = new WebAssembly.Module(readFileSync(testingWasmUrl));
const names = (m: WebAssembly.Module) => WebAssembly.Module.exports(m).map((e) => e.name).filter((n) => !n.startsWith('__'));
const PROBES = ['fuzzFrame', 'fuzzDesiredCount', 'selfTestStrMap', 'selfTestWorkQueue', 'hashInput', 'sha256Input', 'hmacInput', 'placeBatch', 'idHashOf'];

function node(mod: WebAssembly.Module, name: string, bugs = 0): Core {
  const core = Core.create(mod);
  if (bugs) core.plantBugs(bugs);
  core.init({
    name, incarnation: 1, scope: 's', listen: `ws://${name}`, secret: undefined, seed: 1, heartbeatMs: 100,
    failureTimeoutMs: 500, syncIntervalMs: 400, quorum: 0, weight: 1, maxFrameBytes: 1 << 20, kinds: ['worker'], seeds: [],
  });
  return core;
}

/** Two cores on one link (a dials b); frames are passed by hand until neither sends. Returns every effect of a. */
function connectAndPart(mod: WebAssembly.Module, bugs: number): Effect[] {
  const a = node(mod, 'a', bugs), b = node(mod, 'b', bugs);
  const seen: Effect[] = [];
  let now = 1000;
  a.linkOpened(1, true, 'ws://b', new Uint8Array(16).fill(1));
  b.linkOpened(1, false, 'ws://a', new Uint8Array(16).fill(2));
  for (let round = 0; round < 20; round++) {
    const fa = a.step({ now }), fb = b.step({ now });
    seen.push(...fa);
    let sent = 0;
    for (const e of fa) if (e.type === 'send') { b.frame(1, e.bytes); sent++; }
    for (const e of fb) if (e.type === 'send') { a.frame(1, e.bytes); sent++; }
    if (sent === 0) break;
  }
  // b goes silent: a, ticking every heartbeat (a longer gap would count as a pause of a and be
  // forgiven), judges it down after the failure timeout.
  for (let i = 0; i < 10; i++) { now += 100; seen.push(...a.step({ now })); }
  return seen;
}

describe('release and testing builds', () => {
  it('release exports no probe, testing exports every probe and all of release', () => {
    const rel = names(release), test = names(testing);
    for (const p of PROBES) {
      expect(rel).not.toContain(p);
      expect(test).toContain(p);
    }
    for (const n of rel) expect(test).toContain(n);
  });

  it('invariants hold for two cores that connect and then lose each other', () => {
    const fx = connectAndPart(testing, 0);
    expect(fx.some((e) => e.type === 'event' && e.event.type === 'member_up')).toBe(true);
    expect(fx.some((e) => e.type === 'event' && e.event.type === 'member_down')).toBe(true);
    expect(fx.filter((e) => e.type === 'invariant')).toEqual([]);
  });

  it('a member that goes down but stays in the member list (planted) is reported as FX_INVARIANT', () => {
    const fx = connectAndPart(testing, PlantedBug.breakInvariant);
    const broken = fx.filter((e): e is Extract<Effect, { type: 'invariant' }> => e.type === 'invariant');
    expect(broken.length).toBeGreaterThan(0);
    expect(broken[0].message).toMatch(/^members_list: /);
  });

  it('release ignores the planted bug (no invariant effect, no invariant check)', () => {
    const fx = connectAndPart(release, PlantedBug.breakInvariant);
    expect(fx.some((e) => e.type === 'event' && e.event.type === 'member_down')).toBe(true);
    expect(fx.filter((e) => e.type === 'invariant')).toEqual([]);
  });
});
