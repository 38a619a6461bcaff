// Groups of children: a child is in the groups its spec names (`groups: string[]`), so group
// membership is replicated with the spec itself, in the desired map, and every member knows it
// as soon as it holds the start; no registry, no lag behind the desired map.
//
// `sup.publish(group, msg)` asks this node which children are in the group (queryGroup: the
// effective, non-failed specs that name it, in this node's replica at that moment) and sends the
// message to each by id (messages.ts), so each copy is buffered across moves, ordered per sender
// and settled with a typed outcome exactly like a `send`.
//
// The index: for each group, the ids with at least one live entry naming it, with how many such
// entries. It is kept where entries enter and leave the map (crdt.ts insert / drop), so a publish
// costs the size of its group, not of the map; the effective entry of each candidate is checked
// when the group is read (concurrent adds of one id may name different groups).

import { Reader, Writer, utf8Len } from './io';
import { StrMap } from './strmap';
import { GROUPS_PER_CHILD_MAX, GROUP_NAME_BYTES_MAX } from './limits';
import { TAG_ABSENT, TAG_STRING, TAG_OTHER } from './spec';
import { Desired, Entry } from './crdt';

/** The host's tag of the spec's `groups` field when it is an array: u32 count, then per item a tagged string. */
export const TAG_LIST: u8 = 4;

/** What readGroupsFromApi found: the sorted, distinct names, or why they are refused (`groups: ...`). */
export class GroupsResult {
  names: Array<string> = [];
  error: string = '';
}

const NO_GROUPS: Array<string> = [];

/**
 * The spec's `groups` field as the host encoded it: absent (no groups), an array of strings
 * (TAG_LIST), or anything else (TAG_OTHER and its type). Names are sorted and made distinct, so
 * every copy of a spec encodes them identically (the desired map's digest hashes the encoding).
 */
export function readGroupsFromApi(r: Reader): GroupsResult {
  const res = new GroupsResult();
  const tag = r.u8();
  if (tag == TAG_ABSENT) { res.names = NO_GROUPS; return res; }
  if (tag != TAG_LIST) {
    if (tag == TAG_OTHER) r.skipStr(4096);
    res.error = 'groups: must be an array of strings';
    return res;
  }
  const count = r.u32();
  if (!r.ok) { res.error = 'groups: could not be decoded'; return res; }
  if (count > <u32>GROUPS_PER_CHILD_MAX) {
    res.error = 'groups: must name at most ' + GROUPS_PER_CHILD_MAX.toString() + ' groups';
    return res;
  }
  const names = new Array<string>();
  for (let i = 0; i < <i32>count; i++) {
    const t = r.u8();
    if (t != TAG_STRING) { res.error = 'groups: must be an array of strings'; return res; }
    const s = r.str(GROUP_NAME_BYTES_MAX * 4);
    if (!r.ok) { res.error = 'groups: could not be decoded'; return res; }
    if (s.length == 0) { res.error = 'groups: a group name must not be empty'; return res; }
    if (utf8Len(s) > GROUP_NAME_BYTES_MAX) {
      res.error = 'groups: a group name must be at most ' + GROUP_NAME_BYTES_MAX.toString() + ' bytes (UTF-8)';
      return res;
    }
    names.push(s);
  }
  res.names = canonical(names);
  return res;
}

/** Sorted (by code unit) and distinct. */
function canonical(names: Array<string>): Array<string> {
  if (names.length < 2) return names;
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out = new Array<string>();
  for (let i = 0; i < names.length; i++) if (i == 0 || names[i] != names[i - 1]) out.push(names[i]);
  return out;
}

/** The spec's groups on the wire: u32 count, then the names (sorted, distinct). */
export function encodeGroups(w: Writer, names: Array<string>): void {
  w.u32(<u32>names.length);
  for (let i = 0; i < names.length; i++) w.str(names[i]);
}

/** Decodes a peer's groups; refuses (fails the reader) a list over the limits or not in canonical order. */
export function decodeGroups(r: Reader): Array<string> {
  const count = r.count(GROUPS_PER_CHILD_MAX, 4);
  if (count == 0) return NO_GROUPS;
  const names = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const s = r.str(GROUP_NAME_BYTES_MAX);
    if (!r.ok) return NO_GROUPS;
    if (s.length == 0 || (i > 0 && !(names[i - 1] < s))) { r.fail(3); return NO_GROUPS; }
    names[i] = s;
  }
  return names;
}

export function sameGroups(a: Array<string>, b: Array<string>): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
  return true;
}

export function hasGroup(names: Array<string>, group: string): bool {
  for (let i = 0; i < names.length; i++) if (names[i] == group) return true;
  return false;
}

/** Per group, the ids with live entries naming it and how many such entries each has. */
export class GroupIndex {
  groups: StrMap<StrMap<i32>> = new StrMap<StrMap<i32>>();

  /** An entry of `id` naming `names` entered the desired map. */
  add(id: string, names: Array<string>): void {
    for (let i = 0; i < names.length; i++) {
      const at = this.groups.find(names[i]);
      let ids: StrMap<i32>;
      if (at >= 0) ids = this.groups.valueAt(at);
      else { ids = new StrMap<i32>(); this.groups.set(names[i], ids); }
      const k = ids.find(id);
      if (k >= 0) ids.set(id, ids.valueAt(k) + 1);
      else ids.set(id, 1);
    }
  }

  /** That entry left it (superseded, removed, merged away). */
  drop(id: string, names: Array<string>): void {
    for (let i = 0; i < names.length; i++) {
      const at = this.groups.find(names[i]);
      if (at < 0) continue;
      const ids = this.groups.valueAt(at);
      const k = ids.find(id);
      if (k < 0) continue;
      const left = ids.valueAt(k) - 1;
      if (left > 0) ids.set(id, left);
      else {
        ids.delete(id);
        if (ids.size == 0) this.groups.delete(names[i]);
      }
    }
  }

  /** Ids that may be in the group (their effective entry decides). */
  candidates(group: string): Array<string> {
    const at = this.groups.find(group);
    return at >= 0 ? this.groups.valueAt(at).keys() : NO_GROUPS;
  }
}

/**
 * The children in `group` in this node's replica now: u32 count, then their ids. A child is in
 * it when its effective spec names it and has not failed (a send to a failed child is refused).
 */
export function writeGroupMembers(desired: Desired, group: string, w: Writer): void {
  const ids = desired.groups.candidates(group);
  const countAt = w.len;
  w.u32(0);
  let count: u32 = 0;
  for (let i = 0; i < ids.length; i++) {
    const e = desired.get(ids[i]);
    if (e == null || e.spec.failed || !hasGroup(e.spec.groups, group)) continue;
    w.str(ids[i]);
    count++;
  }
  w.patchU32(countAt, count);
}

/** Testing builds (invariants.ts): the index holds, per group and id, exactly the live entries naming it. */
export function groupIndexSane(d: Desired): string {
  let total: i64 = 0;
  const ids = d.store.keys();
  for (let i = 0; i < ids.length; i++) {
    const es = d.store.get(ids[i]);
    for (let j = 0; j < es.length; j++) {
      const gs = es[j].spec.groups;
      for (let k = 0; k < gs.length; k++) {
        if (j > 0 && hasGroupIn(es, j, gs[k])) continue; // counted with an earlier entry
        let want = 0;
        for (let x = 0; x < es.length; x++) if (hasGroup(es[x].spec.groups, gs[k])) want++;
        const at = d.groups.groups.find(gs[k]);
        const got = at < 0 ? 0 : countOf(d.groups.groups.valueAt(at), ids[i]);
        if (got != want) return 'group_index: ' + ids[i] + ' has ' + want.toString() + ' live entries in ' + gs[k] + ', the index ' + got.toString();
        total += want;
      }
    }
  }
  let indexed: i64 = 0;
  const names = d.groups.groups.keys();
  for (let i = 0; i < names.length; i++) {
    const m = d.groups.groups.get(names[i]);
    const ks = m.keys();
    for (let j = 0; j < ks.length; j++) indexed += m.get(ks[j]);
  }
  if (indexed != total) return 'group_index: the index counts ' + indexed.toString() + ' entries in groups, the map ' + total.toString();
  return '';
}

function hasGroupIn(es: Array<Entry>, before: i32, g: string): bool {
  for (let x = 0; x < before; x++) if (hasGroup(es[x].spec.groups, g)) return true;
  return false;
}

function countOf(m: StrMap<i32>, id: string): i32 {
  const at = m.find(id);
  return at < 0 ? 0 : m.valueAt(at);
}
