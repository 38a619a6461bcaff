// `trellis node --config trellis.json`: a JSON object whose keys are the command's flags without
// the leading dashes (`"listen": "127.0.0.1:7000"`, `"seeds": ["ws://a:7000"]`, `"insecure": true`;
// camelCase keys are accepted too). It becomes arguments placed before the command line's, so a
// flag given on the command line wins. A path to the kinds module is relative to the config file.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidOptionError } from '@trellis/core';

const kebab = (k: string): string => k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/**
 * The arguments `file` stands for. `known(flag)` says whether a flag exists and whether it takes
 * a value; an unknown key or a value of the wrong type throws InvalidOptionError naming
 * `FILE: key`.
 */
export function configArgs(file: string, known: (flag: string) => 'switch' | 'value' | undefined): string[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new InvalidOptionError('--config', `cannot read ${file}: ${(e as { code?: string }).code}`); }
  let doc: unknown;
  try { doc = JSON.parse(text); } catch (e) { throw new InvalidOptionError('--config', `${file} is not JSON: ${(e as Error).message}`); }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new InvalidOptionError('--config', `${file} must hold a JSON object of options`);
  const out: string[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const flag = '--' + kebab(key);
    const option = `${file}: ${key}`;
    const shape = flag === '--config' ? undefined : known(flag);
    if (!shape) throw new InvalidOptionError(option, 'unknown option');
    if (shape === 'switch') {
      if (typeof value !== 'boolean') throw new InvalidOptionError(option, `must be true or false, got ${JSON.stringify(value)}`);
      if (value) out.push(flag);
      continue;
    }
    let v: string;
    if (typeof value === 'string' && value.length > 0) v = value;
    else if (typeof value === 'number' && Number.isFinite(value)) v = String(value);
    else if (Array.isArray(value) && value.every((s) => typeof s === 'string')) v = value.join(',');
    else throw new InvalidOptionError(option, `must be a string or a number, got ${JSON.stringify(value)}`);
    if (flag === '--kinds' || flag === '--secret-file') v = resolve(dirname(file), v);
    out.push(flag, v);
  }
  return out;
}
