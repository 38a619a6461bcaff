// The MESSAGE frames of one step, per link: the routes that send in a step (messages.ts sendTo)
// write their groups here, and each link's groups go out together, in frames of about
// MESSAGE_BATCH_BYTES, when one fills up and at the end of the step. A step that sends to many
// children on one member (a publish, groups.ts) then sends a few frames rather than one per child.
// Groups to one link keep their order, so a route's chunks arrive in sequence order as before.

import { Writer } from './io';
import { MSG_MESSAGE } from './codec';
import { MESSAGE_BATCH_BYTES } from './limits';
import { Outbox } from './outbox';

/** A group's bytes before its messages: id length prefix, gen, base, round, message count (the id is counted apart). */
const GROUP_HEAD_BYTES: i32 = 4 + 8 + 8 + 4 + 4;
/** A batch writer grown past this by a large message is not kept for reuse. */
const BATCH_KEPT_BYTES_MAX: i32 = 4 * MESSAGE_BATCH_BYTES;

class Batch {
  w: Writer = new Writer(4096);
  groups: u32 = 0;
}

export class MessageBatches {
  private open: Map<u32, Batch> = new Map();
  private order: Array<u32> = [];
  private pool: Array<Batch> = [];

  /** Payload bytes a group for `link` with id `id` may still carry in the current frame (at least one message always goes). */
  room(link: u32, id: string): i32 {
    const used = this.open.has(link) ? this.open.get(link).w.len : 0;
    return MESSAGE_BATCH_BYTES - used - GROUP_HEAD_BYTES - String.UTF8.byteLength(id, false);
  }

  /** The writer to append one group to for `link`; `added` follows once it is written. */
  writer(link: u32): Writer {
    if (this.open.has(link)) return this.open.get(link).w;
    const b = this.pool.length > 0 ? this.pool.pop() : new Batch();
    b.w.reset();
    b.groups = 0;
    this.open.set(link, b);
    this.order.push(link);
    return b.w;
  }

  /** One group was written for `link`: a full batch goes out now. */
  added(out: Outbox, link: u32): void {
    const b = this.open.get(link);
    b.groups++;
    if (b.w.len >= MESSAGE_BATCH_BYTES - GROUP_HEAD_BYTES) this.send(out, link);
  }

  /** What is batched for `link` goes out now (before a group that would not fit). */
  send(out: Outbox, link: u32): void {
    if (!this.open.has(link)) return;
    const b = this.open.get(link);
    if (b.groups == 0) return;
    const f = out.frame(MSG_MESSAGE);
    f.u32(b.groups);
    f.raw(b.w.buf.dataStart, b.w.len);
    out.to(link);
    b.w.reset();
    b.groups = 0;
  }

  /** End of step: every link's batch goes out. */
  flush(out: Outbox): void {
    for (let i = 0; i < this.order.length; i++) {
      const link = this.order[i];
      this.send(out, link);
      const b = this.open.get(link);
      if (b.w.buf.length <= BATCH_KEPT_BYTES_MAX) this.pool.push(b);
    }
    this.open.clear();
    this.order.length = 0;
  }
}
