// sup.publish(group, msg) on the runtime side. Which children are in a group is the core's answer
// (core-as/assembly/groups.ts: the specs in this node's replica that name the group); this file
// only sends the one encoded message to each of them as a `send` (messaging.ts), so every copy is
// buffered across moves, ordered per sender and settled with a typed outcome, and gathers the
// outcomes into one result.
import type { Core } from './core.js';
import type { Messaging } from './messaging.js';
import { InvalidOptionError, type TrellisError } from './errors.js';
import { GROUP_NAME_BYTES_MAX } from './generated/boundary.js';

/** A child of the group that did not take the message, and the typed error its send failed with. */
export interface PublishFailure { id: string; error: TrellisError }

/**
 * `sent`: the children in the group when publish was called, in this member's replica (each got
 * the message as a send); `failed`: those whose send failed (NotFoundError for one terminated
 * meanwhile, TimeoutError, BufferFullError, DeliveryUnknownError), empty when all took it.
 */
export interface PublishResult { sent: number; failed: PublishFailure[] }

const utf8 = new TextEncoder();

/** The group name's rule, as the spec field's (core-as/assembly/groups.ts). */
function checkGroup(group: unknown): string | undefined {
  if (typeof group !== 'string' || group.length === 0) return 'must be a non-empty string';
  if (group.length * 3 > GROUP_NAME_BYTES_MAX && utf8.encode(group).length > GROUP_NAME_BYTES_MAX) return `must be at most ${GROUP_NAME_BYTES_MAX} bytes (UTF-8)`;
  return undefined;
}

export function publish(core: Core, messaging: Messaging, group: string, msg: unknown): Promise<PublishResult> {
  const bad = checkGroup(group);
  if (bad) return Promise.reject(new InvalidOptionError('group', bad));
  // Encoded and checked once, before anything is sent: a message too large reaches nobody.
  const json = messaging.encode(group, msg);
  if (typeof json !== 'string') return Promise.reject(json);
  const ids = core.groupMembers(group);
  if (ids.length === 0) return Promise.resolve({ sent: 0, failed: [] });
  const failed: PublishFailure[] = [];
  let left = ids.length;
  return new Promise<PublishResult>((resolve) => {
    const settled = (): void => { if (--left === 0) resolve({ sent: ids.length, failed }); };
    for (const id of ids) {
      messaging.sendEncoded(id, json).then(settled, (error: TrellisError) => { failed.push({ id, error }); settled(); });
    }
  });
}
