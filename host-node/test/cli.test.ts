// The trellis CLI and the demo, as a user runs them.
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../src/cli-args.js';

const cli = fileURLToPath(new URL('../bin/trellis.mjs', import.meta.url));
const demo = fileURLToPath(new URL('../demo/demo.mjs', import.meta.url));

describe('trellis CLI', () => {
  it('documents itself with --help', () => {
    const out = execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    expect(out).toContain('trellis node --scope S --listen HOST:PORT');
    expect(out).toContain('--secret-env');
  });
  it('parses a node command and names a bad flag', () => {
    const a = parseArgs(['node', '--scope', 's', '--listen', '127.0.0.1:0', '--seeds', 'ws://a:1, ws://b:2', '--kinds', 'k.js', '--quorum', '2']);
    expect(a).toMatchObject({ scope: 's', listen: { host: '127.0.0.1', port: 0 }, seeds: ['ws://a:1', 'ws://b:2'], kindsFile: 'k.js', quorum: 2 });
    expect(() => parseArgs(['node', '--scope', 's', '--listen', 'nope', '--kinds', 'k'])).toThrow(expect.objectContaining({ option: '--listen' }));
    expect(() => parseArgs(['node', '--bogus'])).toThrow(expect.objectContaining({ option: '--bogus' }));
  });
  it('exits non-zero with a typed message for a missing secret variable', () => {
    const r = spawnSync(process.execPath, [cli, 'node', '--scope', 's', '--listen', '127.0.0.1:0', '--kinds', demo.replace('demo.mjs', 'kinds.mjs'), '--secret-env', 'TRELLIS_NO_SUCH_VAR'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('TRELLIS_NO_SUCH_VAR');
  });
});

describe('demo', () => {
  it('npm start -- --once observes every step and exits 0', () => {
    const r = spawnSync(process.execPath, [demo, '--once'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard\/\n/);
    expect(r.stdout).toContain('step 1 observed');
    expect(r.stdout).toContain('step 2 observed');
    expect(r.stdout).toContain('step 3 observed');
    expect(r.stdout).toContain('demo complete');
  }, 150_000);
});
