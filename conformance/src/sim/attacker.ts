// An attacker without the secret, as a simulator fault kind (docs/SECURITY.md): it can open
// connections to any member and sees and injects frames on the links between members, but knows
// no key. What it tries, one move per fault:
//   relay   connects to two members and passes each one's HELLO (and any AUTH) to the other, posing
//           to each as the other, plus a random proof
//   replay  sends a frame a member sent earlier on a link again, on that link
//   inject  sends a recorded frame with a flipped bit, or random bytes, on an established link
//   idle    opens connections that never send a byte
// The invariant it adds: no member ever sends a proof (AUTH) to the attacker. Everything else is
// checked by the usual invariants: a replayed or injected frame must change nothing but the link
// it arrived on (which closes, bad_mac, and is redialed).
import type { World } from './world.js';
import type { Prng } from './prng.js';
import { MSG, PROTOCOL_VERSION, encodeFrame } from '../protocol.js';

/** Frames recorded per node for replays (the most recent ones). */
const RECORDED_MAX = 64;

type Raw = ReturnType<World['rawLink']>;

export class Attacker {
  private recorded: { link: number; bytes: Uint8Array }[] = [];
  private raws: { raw: Raw; target: string }[] = [];

  constructor(private readonly w: World) {
    w.observers.push((_w, _n, fx) => {
      for (const e of fx) {
        if (e.type !== 'send' || e.bytes[2] <= MSG.AUTH) continue;
        this.recorded.push({ link: e.link, bytes: e.bytes });
        if (this.recorded.length > RECORDED_MAX) this.recorded.shift();
      }
    });
  }

  /** One move against the live members `live`; returns what it did, for the trace. */
  move(rng: Prng, live: string[]): string {
    const kind = rng.pick(['relay', 'replay', 'inject', 'idle'] as const);
    if (kind === 'relay' && live.length > 1) {
      const a = rng.pick(live), b = rng.pick(live.filter((x) => x !== a));
      this.relay(a, b, rng);
      return `relay ${a}<->${b}`;
    }
    if ((kind === 'replay' || kind === 'inject') && this.recorded.length > 0) {
      const f = rng.pick(this.recorded);
      let bytes = f.bytes;
      if (kind === 'inject') {
        bytes = rng.chance(0.5) ? rng.bytes(rng.int(8, 64)) : f.bytes.slice();
        if (bytes === f.bytes || rng.chance(0.5)) bytes[rng.int(0, bytes.length - 1)] ^= 1 << rng.int(0, 7);
      }
      const ok = this.w.injectOnLink(f.link, bytes);
      return `${kind} ${bytes.length} bytes on link ${f.link}${ok ? '' : ' (link gone)'}`;
    }
    const target = rng.pick(live);
    const n = rng.int(1, 4);
    for (let i = 0; i < n; i++) this.raws.push({ raw: this.w.rawLink(target), target });
    return `idle ${n} to ${target}`;
  }

  private relay(a: string, b: string, rng: Prng): void {
    const toA = this.w.rawLink(a), toB = this.w.rawLink(b);
    this.raws.push({ raw: toA, target: a }, { raw: toB, target: b });
    // The listeners' HELLOs arrive after the next steps: the world runs the relay as it goes.
    this.w.runFor(5);
    const helloA = toA.received[0], helloB = toB.received[0];
    if (helloA) this.w.rawSend(toB, helloA);
    if (helloB) this.w.rawSend(toA, helloB);
    this.w.runFor(5);
    for (const [from, to] of [[toA, toB], [toB, toA]] as const) {
      const auth = from.received.find((f) => f[2] === MSG.AUTH);
      this.w.rawSend(to, auth ?? encodeFrame({ type: MSG.AUTH, fields: [rng.bytes(32)] }));
    }
  }

  /** The attacker's own invariant: a member that sent a proof to it ('' when none did). */
  leakedProof(): string {
    for (const { raw, target } of this.raws) {
      if (raw.received.some((f) => f[1] === PROTOCOL_VERSION && f[2] === MSG.AUTH)) return `${target} sent AUTH on link ${raw.link} to an attacker without the secret`;
    }
    return '';
  }
}
