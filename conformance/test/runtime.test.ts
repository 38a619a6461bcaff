// Names the runtime this suite runs in, so a report shows the vectors really ran under Bun.
import { it, expect } from 'vitest';

it('reports the runtime it runs in', () => {
  const expected = process.env.TRELLIS_EXPECT_RUNTIME;
  const actual = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined' ? 'bun' : 'node';
  if (expected) expect(actual).toBe(expected);
  else expect(['bun', 'node']).toContain(actual);
});
