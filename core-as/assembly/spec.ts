// A child spec: what should run, and how it is supervised. Validated once, at the API, with an
// error that names the field and the rule; after that every copy (local or from the wire) is
// trusted to satisfy the same limits, which the wire decoder re-checks.

import { Reader, Writer, utf8Len } from './io';
import { ARGS_BYTES_MAX, ID_BYTES_MAX, KIND_BYTES_MAX } from './limits';
import { readGroupsFromApi, encodeGroups, decodeGroups, sameGroups } from './groups';

export const RESTART_PERMANENT: u8 = 0;
export const RESTART_TRANSIENT: u8 = 1;
export const RESTART_TEMPORARY: u8 = 2;

export const DEFAULT_SHUTDOWN_MS: u32 = 5000;
export const DEFAULT_MAX_RESTARTS: u32 = 3;
export const DEFAULT_PERIOD_MS: u32 = 5000;
const DURATION_MS_MAX: f64 = 2147483647;

// Field tags in the host's encoding of a spec (EV_START_CHILD).
export const TAG_ABSENT: u8 = 0;
export const TAG_STRING: u8 = 1;
export const TAG_NUMBER: u8 = 2;
export const TAG_OTHER: u8 = 3; // present but of another type (or, for args, not serialisable)

export class Spec {
  id: string = '';
  kind: string = '';
  args: string = 'null';
  restart: u8 = RESTART_PERMANENT;
  shutdownMs: u32 = DEFAULT_SHUTDOWN_MS;
  maxRestarts: u32 = DEFAULT_MAX_RESTARTS;
  periodMs: u32 = DEFAULT_PERIOD_MS;
  /** The groups the child is in (groups.ts): sorted, distinct. */
  groups: Array<string> = [];
  /** Set by the owner when the restart intensity was exceeded; cleared by a new startChild. */
  failed: bool = false;

  sameAs(o: Spec): bool {
    return this.kind == o.kind && this.args == o.args && this.restart == o.restart &&
      this.shutdownMs == o.shutdownMs && this.maxRestarts == o.maxRestarts && this.periodMs == o.periodMs &&
      sameGroups(this.groups, o.groups);
  }

  withFailed(f: bool): Spec {
    const s = new Spec();
    s.id = this.id; s.kind = this.kind; s.args = this.args; s.restart = this.restart;
    s.shutdownMs = this.shutdownMs; s.maxRestarts = this.maxRestarts; s.periodMs = this.periodMs;
    s.groups = this.groups;
    s.failed = f;
    return s;
  }

  encode(w: Writer): void {
    w.str(this.id);
    w.str(this.kind);
    w.str(this.args);
    w.u8(this.restart);
    w.u32(this.shutdownMs);
    w.u32(this.maxRestarts);
    w.u32(this.periodMs);
    w.bool(this.failed);
    encodeGroups(w, this.groups);
  }

  /** The bytes `encode` writes: three strings with their u32 lengths, 14 bytes of fixed fields, and the groups list. */
  encodedBytes(): i32 {
    let groups = 4;
    for (let i = 0; i < this.groups.length; i++) groups += 4 + String.UTF8.byteLength(this.groups[i], false);
    return 12 + 14 + String.UTF8.byteLength(this.id, false) + String.UTF8.byteLength(this.kind, false) +
      String.UTF8.byteLength(this.args, false) + groups;
  }

  /** Decodes a spec from a peer; null when malformed (the reader's err is then set). */
  static decode(r: Reader): Spec | null {
    const s = new Spec();
    s.id = r.str(ID_BYTES_MAX);
    s.kind = r.str(KIND_BYTES_MAX);
    s.args = r.str(ARGS_BYTES_MAX);
    s.restart = r.u8();
    s.shutdownMs = r.u32();
    s.maxRestarts = r.u32();
    s.periodMs = r.u32();
    s.failed = r.bool();
    s.groups = decodeGroups(r);
    if (!r.ok) return null;
    if (s.id.length == 0 || s.kind.length == 0 || s.restart > RESTART_TEMPORARY || s.periodMs == 0 ||
      s.shutdownMs > <u32>DURATION_MS_MAX || s.periodMs > <u32>DURATION_MS_MAX) { r.fail(3); return null; }
    return s;
  }
}

export function restartName(r: u8): string {
  if (r == RESTART_TRANSIENT) return 'transient';
  if (r == RESTART_TEMPORARY) return 'temporary';
  return 'permanent';
}

/** Result of validating a spec from the API: either `spec` or `field` + `message`. */
export class SpecResult {
  spec: Spec | null = null;
  field: string = '';
  message: string = '';
}

function invalid(field: string, message: string): SpecResult {
  const r = new SpecResult();
  r.field = field;
  r.message = message;
  return r;
}

/** Reads one tagged string field; returns null (and sets `err`) if present with the wrong type. */
class Field {
  tag: u8 = TAG_ABSENT;
  s: string = '';
  n: f64 = 0;
  /** Reads into `f` (one of the reused FIELDS: a spec arrives per startChild call). */
  static read(r: Reader, maxStr: i32, f: Field): Field {
    f.s = '';
    f.n = 0;
    f.tag = r.u8();
    if (f.tag == TAG_STRING) f.s = r.str(maxStr);
    else if (f.tag == TAG_OTHER) f.s = r.str(4096); // a type name or an error text
    else if (f.tag == TAG_NUMBER) f.n = r.f64();
    return f;
  }
}

const FIELDS: StaticArray<Field> = [new Field(), new Field(), new Field(), new Field(), new Field(), new Field(), new Field()];

function msField(f: Field, name: string, def: u32, minValue: f64, out: StaticArray<u32>, slot: i32): string {
  if (f.tag == TAG_ABSENT) { out[slot] = def; return ''; }
  if (f.tag != TAG_NUMBER) return name + ': must be a number';
  const v = f.n;
  if (isNaN(v) || !isFinite(v) || v != Math.floor(v) || v < minValue || v > DURATION_MS_MAX) {
    return minValue > 0 ? name + ': must be a positive integer' : name + ': must be a non-negative integer';
  }
  out[slot] = <u32>v;
  return '';
}

/**
 * Decodes and validates a spec as the host encoded it (tagged fields, in order: id, kind, args,
 * restart, shutdownMs, maxRestarts, periodMs, groups). Strings longer than the wire limits are read with
 * a generous cap so the error can name the field instead of failing as a malformed record.
 */
export function readSpecFromApi(r: Reader): SpecResult {
  const id = Field.read(r, ARGS_BYTES_MAX * 4, FIELDS[0]);
  const kind = Field.read(r, ARGS_BYTES_MAX * 4, FIELDS[1]);
  const args = Field.read(r, ARGS_BYTES_MAX * 16, FIELDS[2]);
  const restart = Field.read(r, ARGS_BYTES_MAX, FIELDS[3]);
  const shutdown = Field.read(r, 0, FIELDS[4]);
  const maxR = Field.read(r, 0, FIELDS[5]);
  const period = Field.read(r, 0, FIELDS[6]);
  if (!r.ok) return invalid('spec', 'could not be decoded');

  if (id.tag == TAG_ABSENT) return invalid('id', 'id: is required');
  if (id.tag != TAG_STRING) return invalid('id', 'id: must be a string');
  if (id.s.length == 0) return invalid('id', 'id: must not be empty');
  if (utf8Len(id.s) > ID_BYTES_MAX) return invalid('id', 'id: must be at most 256 bytes (UTF-8)');

  if (kind.tag == TAG_ABSENT) return invalid('kind', 'kind: is required');
  if (kind.tag != TAG_STRING) return invalid('kind', 'kind: must be a string');
  if (kind.s.length == 0) return invalid('kind', 'kind: must not be empty');
  if (utf8Len(kind.s) > KIND_BYTES_MAX) return invalid('kind', 'kind: must be at most 256 bytes (UTF-8)');

  let argsJson = 'null';
  if (args.tag == TAG_OTHER) return invalid('args', 'args: must be JSON-serialisable (' + args.s + ')');
  if (args.tag == TAG_STRING) {
    if (utf8Len(args.s) > ARGS_BYTES_MAX) return invalid('args', 'args: must be at most 65536 bytes as JSON');
    argsJson = args.s;
  }

  let restartV = RESTART_PERMANENT;
  if (restart.tag != TAG_ABSENT) {
    if (restart.tag != TAG_STRING) return invalid('restart', "restart: must be 'permanent', 'transient' or 'temporary'");
    if (restart.s == 'permanent') restartV = RESTART_PERMANENT;
    else if (restart.s == 'transient') restartV = RESTART_TRANSIENT;
    else if (restart.s == 'temporary') restartV = RESTART_TEMPORARY;
    else return invalid('restart', "restart: must be 'permanent', 'transient' or 'temporary'");
  }

  const nums = new StaticArray<u32>(3);
  let e = msField(shutdown, 'shutdownMs', DEFAULT_SHUTDOWN_MS, 0, nums, 0);
  if (e.length) return invalid('shutdownMs', e);
  e = msField(maxR, 'maxRestarts', DEFAULT_MAX_RESTARTS, 0, nums, 1);
  if (e.length) return invalid('maxRestarts', e);
  e = msField(period, 'periodMs', DEFAULT_PERIOD_MS, 1, nums, 2);
  if (e.length) return invalid('periodMs', e);
  const groups = readGroupsFromApi(r);
  if (groups.error.length) return invalid('groups', groups.error);

  const s = new Spec();
  s.id = id.s;
  s.kind = kind.s;
  s.args = argsJson;
  s.restart = restartV;
  s.shutdownMs = nums[0];
  s.maxRestarts = nums[1];
  s.periodMs = nums[2];
  s.groups = groups.names;
  const res = new SpecResult();
  res.spec = s;
  return res;
}
