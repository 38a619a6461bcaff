// The dashboard page: one EventSource to the member (push, no polling); the children table is
// virtualised (only the rows in view exist in the DOM) so it stays fast with 100,000 children.
const ROW_PX = 20;
const FEED_MAX = 300;
/** The rate charts: one bucket per second, this many seconds. */
const RATE_BUCKET_MS = 1000;
const RATE_BUCKETS = 60;
const $ = (id) => document.getElementById(id);

const state = { node: '', members: [], rows: new Map(), filtered: [], dirty: true, actions: false };

function text(el, s) { if (el.textContent !== s) el.textContent = s; }

let membersShown = '';
function renderMembers() {
  // Rebuilt only when a member, a rate or the actions switch changed (buttons stay put to be clicked).
  const shown = JSON.stringify([state.members, state.actions, [...rates.entries()]]);
  if (shown === membersShown) return;
  membersShown = shown;
  const body = $('members').tBodies[0];
  body.replaceChildren(...state.members.map((m) => {
    const tr = document.createElement('tr');
    tr.dataset.member = m.name;
    tr.dataset.status = m.status;
    tr.dataset.state = m.state ?? 'active';
    for (const v of [m.name + (m.self ? ' (this)' : ''), m.status, m.state ?? 'active', m.weight, m.children, m.kinds.join(', ') || '-', m.address || '-']) {
      const td = document.createElement('td');
      td.textContent = String(v);
      tr.append(td);
    }
    const td = document.createElement('td');
    td.className = 'rates';
    td.append(sparkline(m.name, 'moves'), sparkline(m.name, 'restarts'));
    tr.append(td);
    if (state.actions) {
      const cell = document.createElement('td');
      for (const name of m.state === 'active' || !m.state ? ['cordon', 'drain'] : ['uncordon']) {
        const b = document.createElement('button');
        b.className = name;
        b.textContent = name;
        b.onclick = () => act(name, { member: m.name }, `${name} ${m.name}`);
        cell.append(b);
      }
      tr.append(cell);
    }
    return tr;
  }));
  const sel = $('member');
  const keep = sel.value;
  sel.replaceChildren(new Option('any member', ''), ...state.members.map((m) => new Option(m.name, m.name)));
  sel.value = keep;
}

function renderPlacement() {
  const kinds = new Set();
  const counts = new Map();
  let most = 1;
  for (const r of state.rows.values()) {
    kinds.add(r[1]);
    const key = r[2] + '\u0000' + r[1];
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (n > most) most = n;
  }
  const ks = [...kinds].sort();
  const t = $('placement');
  const head = document.createElement('tr');
  for (const h of ['member', ...ks]) { const th = document.createElement('th'); th.textContent = h; head.append(th); }
  t.tHead.replaceChildren(head);
  const names = [...state.members.map((m) => m.name), ''];
  t.tBodies[0].replaceChildren(...names.filter((n) => n !== '' || ks.some((k) => counts.has('\u0000' + k))).map((name) => {
    const tr = document.createElement('tr');
    tr.dataset.member = name;
    const td = document.createElement('td');
    td.textContent = name || '(not running)';
    tr.append(td);
    for (const k of ks) {
      const n = counts.get(name + '\u0000' + k) ?? 0;
      const c = document.createElement('td');
      c.dataset.kind = k;
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${Math.round((60 * n) / most)}px`;
      c.append(bar, String(n));
      tr.append(c);
    }
    return tr;
  }));
}

function applyFilter() {
  const q = $('search').value.trim().toLowerCase();
  const status = $('status').value;
  const member = $('member').value;
  const restarted = $('restarted').checked;
  const out = [];
  const statuses = new Set();
  for (const r of state.rows.values()) {
    statuses.add(r[3]);
    if (status && r[3] !== status) continue;
    if (member && r[2] !== member) continue;
    if (restarted && r[4] === 0) continue;
    if (q && !r[0].toLowerCase().includes(q) && !r[1].toLowerCase().includes(q)) continue;
    out.push(r);
  }
  out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  state.filtered = out;
  const sel = $('status');
  const known = new Set([...sel.options].map((o) => o.value));
  for (const s of statuses) if (!known.has(s)) sel.append(new Option(s, s));
  text($('children-count'), `${out.length} of ${state.rows.size}`);
  $('children-spacer').style.height = `${out.length * ROW_PX}px`;
  renderWindow();
}

/** Renders only the rows in view (and a few around them). */
function renderWindow() {
  const box = $('children');
  const first = Math.max(0, Math.floor(box.scrollTop / ROW_PX) - 5);
  const last = Math.min(state.filtered.length, first + Math.ceil(box.clientHeight / ROW_PX) + 10);
  const nodes = [];
  for (let i = first; i < last; i++) {
    const r = state.filtered[i];
    const div = document.createElement('div');
    div.className = 'row';
    div.dataset.id = r[0];
    div.dataset.status = r[3];
    div.style.top = `${i * ROW_PX}px`;
    for (const v of [r[0], r[1], r[2] || '-', r[3], r[4]]) { const s = document.createElement('span'); s.textContent = String(v); div.append(s); }
    if (state.actions) {
      const b = document.createElement('button');
      b.className = 'terminate';
      b.textContent = 'terminate';
      b.onclick = () => terminate(r[0]);
      div.append(b);
    }
    nodes.push(div);
  }
  box.replaceChildren($('children-spacer'), ...nodes);
}

function render() {
  if (!state.dirty) return;
  state.dirty = false;
  text($('node'), `member ${state.node}`);
  const up = state.members.filter((m) => m.status === 'up').length;
  text($('totals'), `${up} of ${state.members.length} members up · ${state.rows.size} children`);
  renderMembers();
  renderPlacement();
  applyFilter();
}
const schedule = () => { state.dirty = true; requestAnimationFrame(render); };
/** The member table alone (its rate charts), without the children table and the placement. */
let membersDirty = false;
const scheduleMembers = () => {
  if (membersDirty) return;
  membersDirty = true;
  requestAnimationFrame(() => { membersDirty = false; renderMembers(); });
};

function addEvents(events, dropped, at) {
  const feed = $('feed');
  const time = new Date(at).toISOString().slice(11, 23);
  for (const e of events) {
    const li = document.createElement('li');
    li.dataset.type = e.type;
    const { type, ...rest } = e;
    li.textContent = `${time} ${type} ${Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')}`;
    feed.prepend(li);
  }
  if (dropped > 0) { const li = document.createElement('li'); li.textContent = `${time} (${dropped} more events)`; feed.prepend(li); }
  while (feed.children.length > FEED_MAX) feed.lastChild.remove();
}

/**
 * Asks the member for an action (terminate, cordon, uncordon, drain) with the operator credential
 * pasted in #credential; the answer, or the refusal with its code (credential_expired, ...), is
 * shown in #action-result.
 */
async function act(name, request, what) {
  const out = $('action-result');
  delete out.dataset.status;
  delete out.dataset.error;
  out.textContent = `${what}…`;
  const res = await fetch(`actions/${name}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${$('credential').value.trim()}` }, body: JSON.stringify(request),
  });
  const body = await res.json();
  out.dataset.action = name;
  if (!res.ok) out.dataset.error = body.error;
  out.dataset.status = String(res.status);
  out.textContent = res.ok ? `${what}: done` : `refused (${body.error}): ${body.message}`;
}
const terminate = (id) => act('terminate', { id }, `terminate ${id}`);

// ---- per-member rates: moves (child_moved events, counted for the member moved to) and restarts
// (a row's restart count going up, counted for the member running it), per second, last minute.
const rates = new Map();
let rateEpoch = Math.floor(Date.now() / RATE_BUCKET_MS);

function series(member, what) {
  let r = rates.get(member);
  if (!r) { r = { moves: new Array(RATE_BUCKETS).fill(0), restarts: new Array(RATE_BUCKETS).fill(0) }; rates.set(member, r); }
  return r[what];
}
function bump(member, what, n = 1) {
  if (!member) return;
  const s = series(member, what);
  s[s.length - 1] += n;
}
/** Moves every series on by the whole seconds passed. */
function tickRates() {
  const now = Math.floor(Date.now() / RATE_BUCKET_MS);
  const steps = Math.min(RATE_BUCKETS, now - rateEpoch);
  if (steps <= 0) return;
  rateEpoch = now;
  for (const r of rates.values()) for (const s of [r.moves, r.restarts]) { s.splice(0, steps); for (let i = 0; i < steps; i++) s.push(0); }
  scheduleMembers();
}
function sparkline(member, what) {
  const s = series(member, what);
  const most = Math.max(1, ...s);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${RATE_BUCKETS} 16`);
  svg.setAttribute('class', `spark ${what}`);
  svg.dataset.total = String(s.reduce((a, b) => a + b, 0));
  const title = document.createElementNS(ns, 'title');
  title.textContent = `${what} per second, last ${RATE_BUCKETS} s: ${svg.dataset.total} (peak ${most}/s)`;
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', s.map((v, i) => `${i},${(16 - (15 * v) / most).toFixed(1)}`).join(' '));
  svg.append(title, line);
  return svg;
}

function onMessage(m) {
  if (m.t === 'config') {
    state.actions = m.actions;
    $('actions').hidden = !m.actions;
    $('member-actions').hidden = !m.actions;
    return;
  }
  if (m.t === 'full') {
    state.node = m.node;
    state.members = m.members;
    state.rows = new Map(m.rows.map((r) => [r[0], r]));
  } else if (m.t === 'delta') {
    if (m.members) state.members = m.members;
    for (const r of m.set) {
      const old = state.rows.get(r[0]);
      if (old && r[4] > old[4]) bump(r[2], 'restarts', r[4] - old[4]);
      state.rows.set(r[0], r);
    }
    for (const id of m.del) state.rows.delete(id);
  } else if (m.t === 'events') {
    addEvents(m.events, m.dropped, m.at);
    for (const e of m.events) if (e.type === 'child_moved') bump(e.to, 'moves');
    scheduleMembers();
    return;
  }
  window.trellisDashboard = { updatedAt: Date.now(), rows: state.rows.size, members: state.members.length };
  schedule();
}

const source = new EventSource('events');
source.onopen = () => { const l = $('link'); l.dataset.state = 'live'; l.textContent = 'live'; };
source.onerror = () => { const l = $('link'); l.dataset.state = 'lost'; l.textContent = 'reconnecting'; };
source.onmessage = (ev) => onMessage(JSON.parse(ev.data));
$('children').addEventListener('scroll', () => requestAnimationFrame(renderWindow));
setInterval(tickRates, RATE_BUCKET_MS);
for (const id of ['search', 'status', 'member', 'restarted']) $(id).addEventListener('input', () => applyFilter());
