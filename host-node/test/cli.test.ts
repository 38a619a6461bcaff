// The trellis CLI and the demo, as a user runs them.
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../src/cli-args.js';
import { start } from '../src/index.js';
import { waitUntil } from '../../conformance/src/drivers/process-member.js';

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
    expect(a).toMatchObject({ scope: 's', listen: { host: '127.0.0.1', port: 0 }, seeds: ['ws://a:1', 'ws://b:2'], kindsFile: 'k.js', quorum: 2, partition: { quorum: 2 } });
    expect(() => parseArgs(['node', '--scope', 's', '--listen', 'nope', '--kinds', 'k'])).toThrow(expect.objectContaining({ option: '--listen' }));
    expect(() => parseArgs(['node', '--bogus'])).toThrow(expect.objectContaining({ option: '--bogus' }));
  });
  const node = (...more: string[]) => parseArgs(['node', '--scope', 's', '--listen', '127.0.0.1:0', '--kinds', 'k.js', ...more]);
  it('--partition available|majority|quorum:N is the partition start() takes; a bad value is named', () => {
    expect(node().partition).toBeUndefined();
    expect(node('--partition', 'available').partition).toBe('available');
    expect(node('--partition', 'majority').partition).toBe('majority');
    expect(node('--partition', 'quorum:3').partition).toEqual({ quorum: 3 });
    for (const bad of ['quorum:0', 'quorum:', 'quorum:-1', 'quorum:1.5', 'quorum', 'Majority', 'all', '']) {
      expect(() => node('--partition', bad)).toThrow(expect.objectContaining({ name: 'InvalidOptionError', option: '--partition', message: expect.stringContaining(`got '${bad}'`) }));
    }
    expect(() => node('--partition')).toThrow(expect.objectContaining({ option: '--partition', message: expect.stringContaining('needs a value') }));
    expect(() => node('--quorum', '0')).toThrow(expect.objectContaining({ option: '--quorum' }));
    expect(() => node('--quorum', '2', '--partition', 'majority')).toThrow(expect.objectContaining({ option: '--partition', message: expect.stringContaining('not both') }));
  });
  it('a node started with the parsed --partition runs in that mode', async () => {
    const alone = async (partition: string) => start({ scope: 'cli-partition', insecure: true, listen: { host: '127.0.0.1', port: 0 }, kinds: {}, partition: node('--partition', partition).partition });
    for (const [mode, quorum, roster] of [['available', true, 0], ['majority', true, 1], ['quorum:2', false, 0]] as const) {
      const sup = await alone(mode);
      try {
        // majority: a roster of itself alone holds its quorum (1 of 1); quorum:2 alone never does.
        await waitUntil(() => sup.stats().ready, 5000, `${mode}: ready`);
        expect(sup.stats()).toMatchObject({ quorum, roster });
      } finally {
        await sup.kill();
      }
    }
  });
  it('exits 2 naming a bad --partition value', () => {
    const r = spawnSync(process.execPath, [cli, 'node', '--scope', 's', '--listen', '127.0.0.1:0', '--kinds', demo.replace('demo.mjs', 'kinds.mjs'), '--insecure', '--partition', 'quorum:zero'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--partition: must be available, majority or quorum:N with N >= 1, got 'quorum:zero'");
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
