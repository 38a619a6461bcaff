// The one way a frame leaves this node: start it, write its payload, send it to one link or to
// every connected member. A logical message larger than one fragment goes out as FRAGMENT
// frames (fragments.ts). The frame is built once in a scratch buffer that is reused; on a link
// that has sent its AUTH, each copy is followed by that link's tag (effects.ts fxSend).

import { Writer } from './io';
import { beginFrame, endFrame } from './codec';
import { FRAME_SCRATCH_BYTES } from './limits';
import { MemberTable } from './membership';
import { sendFragmented } from './fragments';
import { Link } from './model';

export class Outbox {
  private w: Writer = new Writer(FRAME_SCRATCH_BYTES);
  /** The node's links (set by Node): a frame for a link that is gone is dropped. */
  links: Map<u32, Link> = new Map();
  /** Where the open frame begins, or -1 once it is sealed (its length written). */
  private at: i32 = -1;

  /** Starts a frame of `type`; write its payload to the writer returned, then `to` or `toAll`. */
  frame(type: u8): Writer {
    this.w.reset();
    this.at = beginFrame(this.w, type);
    return this.w;
  }

  /** Sends the frame last started on one link. */
  to(link: u32): void {
    this.seal();
    if (this.links.has(link)) sendFragmented(this.links.get(link), this.w);
  }

  /** A copy of the frame last sent (the handshake keeps its HELLO for the transcript). */
  lastFrame(): Uint8Array { return this.w.toBytes(); }

  /** Sends the frame last started to every member with a link. */
  toAll(members: MemberTable): void {
    this.seal();
    const ms = members.list;
    for (let i = 0; i < ms.length; i++) {
      const id = ms[i].link;
      if (id != 0 && this.links.has(id)) sendFragmented(this.links.get(id), this.w);
    }
  }

  /** Sends the frame last started to every member with a link that this sync round reaches (watched-links.ts). */
  toSyncing(members: MemberTable): void {
    this.seal();
    const ms = members.list;
    for (let i = 0; i < ms.length; i++) {
      const id = ms[i].link;
      if (id != 0 && ms[i].syncThisRound && this.links.has(id)) sendFragmented(this.links.get(id), this.w);
    }
  }

  /** A frame with no payload (HEARTBEAT, CLAIMS_REQ, LEAVING, BYE) to one link. */
  empty(link: u32, type: u8): void { this.frame(type); this.to(link); }

  /** A frame with no payload to every member with a link. */
  emptyToAll(members: MemberTable, type: u8): void { this.frame(type); this.toAll(members); }

  private seal(): void {
    if (this.at < 0) return;
    endFrame(this.w, this.at);
    this.at = -1;
  }
}
