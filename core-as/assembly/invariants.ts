// The core's consistency, checked after every step in testing builds (exports.ts `step`); a
// release build never calls this, so it is compiled out. Each check is one rule that the code
// keeps by hand; the first broken one is returned as "name: detail" ('' when all hold), and
// reported to the host as FX_INVARIANT (the simulator turns it into a violation).

import { Node } from './node';
import {
  L_UP, S_STARTING, S_RUNNING, S_STOPPING, S_RESTARTING, S_UNRESPONSIVE, C_RELEASED, WHY_MOVED,
} from './model';
import { WAIT_DONE } from './boundary';
import { DOT_REPLICAS_MAX, DOT_COUNTER_MAX } from './limits';
import { dotRep, dotCtr } from './crdt';
import { freshCandidates, reconcilePending } from './ownership';
import { quorumOk, quorumSettled } from './lease';
import { routesSane } from './messages';
import { callStopsSane } from './call-stops';
import { groupIndexSane } from './groups';
import { rosterSane, aloneInRoster } from './roster';

export function invariants(n: Node): string {
  if (!n.initialised) return '';
  let broken = membersAgree(n);
  if (broken.length == 0) broken = linksAgree(n);
  if (broken.length == 0) broken = localsAgree(n);
  if (broken.length == 0) broken = claimsAgree(n);
  if (broken.length == 0) broken = dotsFit(n);
  if (broken.length == 0) broken = waitsSane(n);
  if (broken.length == 0) broken = candidatesAgree(n);
  if (broken.length == 0) broken = quorumLeaseKept(n);
  if (broken.length == 0) broken = routesSane(n);
  if (broken.length == 0) broken = callStopsSane(n);
  if (broken.length == 0) broken = rosterSane(n);
  if (broken.length == 0) broken = groupIndexSane(n.desired);
  if (broken.length == 0 && n.guardStops != 0) {
    broken = 'reconcile_guard: the reconcile loop stopped at its guard ' + n.guardStops.toString() + ' time(s)';
  }
  return broken;
}

/** The member map and the member list hold the same members, each once. */
function membersAgree(n: Node): string {
  const t = n.members;
  const names = t.names();
  if (names.length != t.list.length) {
    return 'members_list: ' + names.length.toString() + ' members by name, ' + t.list.length.toString() + ' in the list';
  }
  for (let i = 0; i < t.list.length; i++) {
    const m = t.list[i];
    if (!t.is(m)) return 'members_list: ' + m.name + ' is in the list but not the member of that name';
    if (m.name == n.name) return 'members_self: this node is its own member';
  }
  return '';
}

/**
 * A member's link, while it is still open, is up and leads to that member; every link that is
 * up belongs to a member. (A member keeps the id of a link rejected under it until it times
 * out: see handshake.ts reject.)
 */
function linksAgree(n: Node): string {
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i];
    if (m.link == 0 || !n.links.has(m.link)) continue;
    const l = n.links.get(m.link);
    if (l.state != L_UP) return 'member_link: link ' + m.link.toString() + ' of ' + m.name + ' is not up';
    if (l.peerName != m.name) return 'member_link: link ' + m.link.toString() + ' of ' + m.name + ' leads to ' + l.peerName;
  }
  const ls = n.links.values();
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i];
    if (l.state != L_UP) continue;
    if (!n.members.has(l.peerName)) return 'link_member: link ' + l.id.toString() + ' is up but ' + l.peerName + ' is not a member';
  }
  return '';
}

/** The restarting set is exactly the local children in S_RESTARTING. */
function localsAgree(n: Node): string {
  const ids = n.restartingIds.values();
  for (let i = 0; i < ids.length; i++) {
    const at = n.locals.find(ids[i]);
    if (at < 0) return 'restarting_set: ' + ids[i] + ' is restarting but not a local child';
    if (n.locals.valueAt(at).state != S_RESTARTING) return 'restarting_set: ' + ids[i] + ' is in the set but not restarting';
  }
  const cs = n.locals.values();
  let restarting = 0;
  for (let i = 0; i < cs.length; i++) {
    const s = cs[i].state;
    if (s != S_STARTING && s != S_RUNNING && s != S_STOPPING && s != S_RESTARTING && s != S_UNRESPONSIVE) {
      return 'local_state: ' + cs[i].id + ' has state ' + s.toString();
    }
    if (s == S_RESTARTING) restarting++;
    if ((s == S_STOPPING || s == S_UNRESPONSIVE) && cs[i].why < WHY_MOVED) return 'local_state: ' + cs[i].id + ' stops for no reason';
  }
  if (restarting != ids.length) return 'restarting_set: ' + restarting.toString() + ' children restarting, ' + ids.length.toString() + ' in the set';
  return '';
}

/** Every local child has our claim, with its epoch and a status of the same number; no claim without one. */
function claimsAgree(n: Node): string {
  const mine = n.claims.mine;
  const cs = n.locals.values();
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i];
    const at = mine.find(c.id);
    if (at < 0) return 'claims_locals: local child ' + c.id + ' has no claim';
    const cl = mine.valueAt(at);
    if (cl.status != c.state) return 'claims_locals: ' + c.id + ' is in state ' + c.state.toString() + ', claimed as ' + cl.status.toString();
    if (cl.epoch != c.epoch) return 'claims_locals: ' + c.id + ' runs epoch ' + c.epoch.toString() + ', claimed as ' + cl.epoch.toString();
  }
  if (mine.size != n.locals.size) return 'claims_locals: ' + mine.size.toString() + ' claims for ' + n.locals.size.toString() + ' local children';
  const ms = n.members.list;
  for (let i = 0; i < ms.length; i++) {
    const theirs = ms[i].claims.values();
    for (let j = 0; j < theirs.length; j++) {
      if (theirs[j].status == C_RELEASED) return 'member_claims: ' + ms[i].name + ' holds a released claim of ' + theirs[j].id;
    }
  }
  return '';
}

/** Our replica and counter fit a dot key, and so does every replica we know. */
function dotsFit(n: Node): string {
  const d = n.desired;
  if (d.replicas.list.length > DOT_REPLICAS_MAX) return 'dot_width: ' + d.replicas.list.length.toString() + ' replicas';
  if (d.myRep < 0 || d.myRep >= d.replicas.list.length) return 'dot_width: my replica index ' + d.myRep.toString();
  if (d.myCtr > DOT_COUNTER_MAX) return 'dot_width: my counter ' + d.myCtr.toString();
  return '';
}

/**
 * Ack waits are for dots of ours, and in 'available' mode only while someone can acknowledge;
 * ops held by a peer wait for the quorum only while it is not held; terminate waits are filed
 * under the counter of their current remove dot; done waits are 'done'
 * waits of their id.
 */
function waitsSane(n: Node): string {
  if (n.ackedAwaitingQuorum.length > 0 && quorumSettled(n)) {
    return 'ack_quorum: ' + n.ackedAwaitingQuorum.length.toString() + ' acknowledged ops wait for a quorum that is held';
  }
  if (n.ackWaits.size > 0) {
    if (n.members.count == 0 && (n.cfg.quorum == 0 || aloneInRoster(n))) return 'ack_waits: ' + n.ackWaits.size.toString() + ' waiting with no member to acknowledge';
    const ks = n.ackWaits.keys();
    for (let i = 0; i < ks.length; i++) {
      if (dotRep(ks[i]) != n.desired.myRep) return 'ack_waits: a wait for a dot of replica ' + dotRep(ks[i]).toString();
    }
  }
  if (n.termWaits.size > 0) {
    const alone = n.members.count == 0 && (n.cfg.quorum == 0 || aloneInRoster(n));
    const ks = n.termWaits.keys();
    for (let i = 0; i < ks.length; i++) {
      // Acknowledged ones wait for their child to stop (terminates.ts stopCovered), alone too.
      if (alone && !n.termWaits.get(ks[i]).acked) return 'term_waits: a terminate waiting with no member to cover it';
      const dot = n.termWaits.get(ks[i]).dot;
      if (dotRep(dot) != n.desired.myRep || dotCtr(dot) != ks[i]) return 'term_waits: a wait filed under counter ' + ks[i].toString() + ' for another dot';
    }
  }
  const ids = n.doneWaits.keys();
  for (let i = 0; i < ids.length; i++) {
    const ws = n.doneWaits.get(ids[i]);
    if (ws.length == 0) return 'done_waits: an empty list for ' + ids[i];
    for (let j = 0; j < ws.length; j++) {
      if (ws[j].id != ids[i] || ws[j].wait != WAIT_DONE) return 'done_waits: a wait for ' + ws[j].id + ' filed under ' + ids[i];
    }
  }
  if (n.leaveReqs.length > 0 && !n.leaving) return 'leave_reqs: leave requests waiting while not leaving';
  return '';
}

/** The candidate cache holds, per kind, exactly the candidates membership gives now. */
function candidatesAgree(n: Node): string {
  const kinds = n.candCache.keys();
  for (let i = 0; i < kinds.length; i++) {
    const cached = n.candCache.get(kinds[i]).cands;
    const now = freshCandidates(n, kinds[i]);
    if (cached.length != now.length) return 'candidates: kind ' + kinds[i] + ' caches ' + cached.length.toString() + ' of ' + now.length.toString();
    for (let j = 0; j < now.length; j++) {
      if (cached[j].name != now[j].name) return 'candidates: kind ' + kinds[i] + ' caches ' + cached[j].name + ' for ' + now[j].name;
    }
  }
  return '';
}

/** Without its quorum a node runs nothing: once reconcile has no work left, every local child is stopping. */
function quorumLeaseKept(n: Node): string {
  if (quorumOk(n) || reconcilePending(n) || n.allDirty) return '';
  const cs = n.locals.values();
  for (let i = 0; i < cs.length; i++) {
    if (cs[i].state != S_STOPPING && cs[i].state != S_UNRESPONSIVE) return 'quorum_lease: ' + cs[i].id + ' is in state ' + cs[i].state.toString() + ' without quorum';
  }
  return '';
}
