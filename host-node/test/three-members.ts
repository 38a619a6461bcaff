// A 3-member cluster for the observation tests: a (with `aOptions`), b and c seeded from a.
import type { Supervisor } from '../src/index.js';
import { waitUntil } from '../../conformance/src/drivers/process-member.js';

export async function threeMembers(node: (o: Record<string, unknown>) => Promise<Supervisor>, aOptions: Record<string, unknown>): Promise<[Supervisor, Supervisor, Supervisor]> {
  const a = await node({ name: 'a', ...aOptions });
  const b = await node({ name: 'b', seeds: [a.address!] });
  const c = await node({ name: 'c', seeds: [a.address!] });
  await waitUntil(() => [a, b, c].every((s) => s.members().length === 3), 5000, 'three members');
  return [a, b, c];
}
