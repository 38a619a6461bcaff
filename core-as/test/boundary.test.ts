// The binding's boundary codes come from the core's sources (core-as/scripts/gen-boundary.mjs):
// these tests fail when the generated module is stale, when the generator reads a conflicting
// definition, or when the core gains an event or effect code the binding does not handle.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs build script without type declarations
import { generate, defaultSources, defaultOut } from '../scripts/gen-boundary.mjs';

const src = fileURLToPath(new URL('../src', import.meta.url));
const generated = readFileSync(defaultOut, 'utf8');
const codes = (prefix: string): string[] => [...generated.matchAll(new RegExp(`^export const (${prefix}[A-Z0-9_]+) = `, 'gm'))].map((m) => m[1]);

/** Every hand-written source file of the binding (not the generated module). */
function bindingSources(dir = src): string {
  let text = '';
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) { if (e.name !== 'generated') text += bindingSources(join(dir, e.name)); }
    else if (e.name.endsWith('.ts')) text += readFileSync(join(dir, e.name), 'utf8');
  }
  return text;
}

describe('boundary codes', () => {
  it('the generated module is what the generator makes from the current core sources', () => {
    expect(generated).toBe(generate(defaultSources()));
  });

  it('every event, effect and observer-event code of the core is used by the binding', () => {
    const used = bindingSources();
    const all = [...codes('EV_'), ...codes('FX_'), ...codes('OE_'), ...codes('Q_')];
    expect(all.length).toBeGreaterThan(30);
    const unused = all.filter((name) => !new RegExp(`\\b${name}\\b`).test(used));
    expect(unused).toEqual([]);
  });

  it('the binding writes no boundary code as a bare number', () => {
    // `case 3:` in a decoder or `query(1)` was how the copies drifted before the generator.
    const used = bindingSources();
    expect(used).not.toMatch(/case \d+:/);
    expect(used).not.toMatch(/query\(\d+\)/);
  });

  it('names come from the core\'s own name functions, and a conflicting definition is refused', () => {
    expect(generated).toContain("'self_link'"); // frameErrorName(FERR_SELF), not the constant's suffix
    const dir = mkdtempSync(join(tmpdir(), 'trellis-gen-'));
    const a = join(dir, 'a.ts'), b = join(dir, 'b.ts');
    writeFileSync(a, 'export const EV_INIT: u8 = 1;\n');
    writeFileSync(b, 'export const EV_INIT: u8 = 2; // moved\n');
    expect(() => generate([a, b])).toThrow(/EV_INIT is 1 in .* but 2 in/);
  });
});
