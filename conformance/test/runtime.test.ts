// Names the runtime this suite runs in, so a report shows the vectors really ran under Bun.
import { it, expect } from 'vitest';

it('reports the runtime it runs in', () => {
  const expected = process.env.TRELLIS_EXPECT_RUNTIME;
  const actual = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined' ? 'bun' : 'node';
  // npm test sets the expectation for each suite; run alone, the test names what it found.
  expect(actual).toBe(expected ?? actual);
});
