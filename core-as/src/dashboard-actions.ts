// What the dashboard's mutating actions do, once dashboard-serve.ts has checked the credential:
// terminate a child, cordon / uncordon / drain a member. Each answers an HTTP status and a JSON
// body; typed errors keep their code (`not_found`, `unknown_member`, `drain_timeout`, ...).
import type { Supervisor } from './supervisor.js';
import type { TrellisError } from './errors.js';

/** How long an action may wait for the cluster (terminate until stopped, cordon until applied). */
export const ACTION_TIMEOUT_MS = 10_000;
/** A drain from the page: its deadline and parallelism unless the request names them. */
export const DRAIN_DEADLINE_MS = 60_000;

export type ActionName = 'terminate' | 'cordon' | 'uncordon' | 'drain';
export const ACTIONS: readonly ActionName[] = ['terminate', 'cordon', 'uncordon', 'drain'];
export interface ActionAnswer { status: number; body: Record<string, unknown> }

const STATUS_OF: Record<string, number> = { not_found: 404, unknown_member: 404, invalid_option: 400, invalid_spec: 400, drain_timeout: 504, timeout: 504 };
const refused = (e: TrellisError): ActionAnswer => ({ status: STATUS_OF[e.code] ?? 409, body: { error: e.code, message: e.message } });
const invalid = (message: string): ActionAnswer => ({ status: 400, body: { error: 'invalid_request', message } });

/** Runs an action whose JSON body has been read: `{ id }` for terminate, `{ member, deadlineMs?, maxParallel? }` for the others. */
export async function runAction(sup: Supervisor, name: ActionName, body: unknown): Promise<ActionAnswer> {
  const b = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  try {
    if (name === 'terminate') {
      if (typeof b.id !== 'string') return invalid('body must be {"id": "<child id>"}');
      await sup.terminateChild(b.id, { wait: 'stopped', timeoutMs: ACTION_TIMEOUT_MS });
      return { status: 200, body: { ok: true, id: b.id } };
    }
    if (typeof b.member !== 'string') return invalid('body must be {"member": "<member name>"}');
    if (name === 'cordon') await sup.cordon(b.member, { timeoutMs: ACTION_TIMEOUT_MS });
    else if (name === 'uncordon') await sup.uncordon(b.member, { timeoutMs: ACTION_TIMEOUT_MS });
    else await sup.drain(b.member, { deadlineMs: (b.deadlineMs as number | undefined) ?? DRAIN_DEADLINE_MS, maxParallel: b.maxParallel as number | undefined });
    return { status: 200, body: { ok: true, member: b.member } };
  } catch (e) {
    return refused(e as TrellisError);
  }
}
