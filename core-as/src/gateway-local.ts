// The gateway's links to its own member, in process (docs/PROTOCOL.md "Gateway"). A tab joins
// through the gateway's own member first, and every tab keeps that link: piped over a loopback
// WebSocket, each of its frames would cross two more sockets of the same process (the gateway's
// dial and the member's accept). Here the gateway's pipe and the member's link are two ends of one
// object: what the tab sends reaches the member's transport handlers as an inbound link's frame,
// what the member sends on that link goes straight to the gateway's pipe. The link is still end to
// end (handshake, MACs, failure detection): only the loopback socket is gone. Host transports
// (host-node, host-bun) hand `open` to the gateway as its dial of their own address, and route
// their send and close of these link ids here.
import type { TransportHandlers } from './adapters.js';
import type { GatewayPipeEvents, GatewaySocket } from './gateway.js';

/** The remote address a member's core is told for such a link (an inbound link's is the dialer's). */
export const GATEWAY_LOCAL_ADDRESS = 'gateway:local';

interface End { pipe: GatewayPipeEvents; done: boolean }

export class GatewayLocalLinks {
  private readonly ends = new Map<number, End>();

  /** `handlers`: the member transport's, once it listens; `nextId`: a link id from the transport's own sequence. */
  constructor(private readonly handlers: () => TransportHandlers | undefined, private readonly nextId: () => number) {}

  /** The gateway's dial of its own member: an inbound link of the member, opened now. */
  open(pipe: GatewayPipeEvents): GatewaySocket {
    const h = this.handlers();
    const id = this.nextId();
    const end: End = { pipe, done: false };
    this.ends.set(id, end);
    // Opened on the gateway's side first: the member answers the link's open with its HELLO at once.
    queueMicrotask(() => {
      if (end.done) return;
      if (!h) { this.finish(id, end, 'not_listening', false); return; }
      pipe.opened();
      h.opened(id, false, GATEWAY_LOCAL_ADDRESS);
    });
    return {
      send: (bytes) => { if (!end.done) h?.frame(id, bytes); },
      // The tab's channel closed (or its socket): the member's link ends, as a socket's would.
      close: (_code, reason) => {
        if (end.done) return;
        end.done = true;
        this.ends.delete(id);
        h?.closed(id, reason);
      },
    };
  }

  /** The member sends on one of these links: true when `link` is one (the bytes went to the pipe). */
  send(link: number, bytes: Uint8Array): boolean {
    const end = this.ends.get(link);
    if (!end) return false;
    if (!end.done) end.pipe.data(bytes);
    return true;
  }

  /** The member closes one of these links: true when `link` is one. The core already forgot it, so it is reported closed now. */
  close(link: number, reason: string): boolean {
    const end = this.ends.get(link);
    if (!end) return false;
    this.finish(link, end, reason, true);
    return true;
  }

  /** Every link, at the transport's shutdown. */
  closeAll(reason: string): void { for (const [id, end] of [...this.ends]) this.finish(id, end, reason, true); }

  private finish(id: number, end: End, reason: string, memberKnew: boolean): void {
    if (end.done) return;
    end.done = true;
    this.ends.delete(id);
    end.pipe.closed(reason);
    if (memberKnew) this.handlers()?.closed(id, reason);
  }
}
