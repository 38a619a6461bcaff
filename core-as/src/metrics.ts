// Prometheus metrics of one member through prom-client, on a registry of its own (several
// members may share a process). Gauges and the counters the runtime already keeps are read at
// scrape time (collect), so nothing is computed between scrapes; the step histogram and the
// event counters are fed as things happen. Hosts with prom-client (Node, Bun) attach this; the
// runtime itself does not import it, since the browser host runs the runtime too.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { InvalidOptionError } from './errors.js';
import type { MetricFamily, MetricSample, MetricsData } from './metrics-data.js';
import type { MemberView } from './queries.js';
import type { Supervisor } from './supervisor.js';

/** Where a member serves `/metrics`: a path on its own listening server, or a port of its own. */
export type MetricsOptions = { path: string } | { port: number; host?: string };

/** Upper bounds of the step-duration buckets, in seconds (a step is usually tens of microseconds). */
export const STEP_SECONDS_BUCKETS: readonly number[] = [0.00001, 0.00003, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
/** The host a `{ port }` endpoint binds when none is given. */
export const METRICS_HOST_DEFAULT = '127.0.0.1';

/** Validates the `metrics` option; undefined means no endpoint. */
export function checkMetricsOptions(o: unknown): MetricsOptions | undefined {
  if (o === undefined) return undefined;
  const shape = '{ path: "/metrics" } or { port: 0..65535, host? }';
  if (o === null || typeof o !== 'object') throw new InvalidOptionError('metrics', `must be ${shape}`);
  const m = o as Record<string, unknown>;
  if ('path' in m) {
    if (typeof m.path !== 'string' || !m.path.startsWith('/')) throw new InvalidOptionError('metrics.path', 'must be a path starting with /');
    return { path: m.path };
  }
  if (!Number.isInteger(m.port) || (m.port as number) < 0 || (m.port as number) > 65535) throw new InvalidOptionError('metrics.port', 'must be an integer 0..65535');
  if (m.host !== undefined && typeof m.host !== 'string') throw new InvalidOptionError('metrics.host', 'must be a string');
  return { port: m.port as number, host: (m.host as string | undefined) ?? METRICS_HOST_DEFAULT };
}

export const MOVE_REASONS = ['failover', 'handover', 'rebalance'] as const;

/** Why a child moved, from what this member knows of the member it left: lost, leaving, or up (placement changed). */
function moveReason(from: MemberView | undefined): (typeof MOVE_REASONS)[number] {
  if (!from || from.status === 'disconnected') return 'failover';
  return from.status === 'leaving' ? 'handover' : 'rebalance';
}

/** A plain HTTP GET route a host's transport serves: at `path` of its own server, or on a server of its own at `listen`. */
export interface HttpRoute {
  path: string;
  listen?: { host: string; port: number };
  answer(): Promise<{ contentType: string; body: string }>;
}

/**
 * The route for the `metrics` option (undefined without one), answered from `holder.endpoint`
 * once the node exists. `{ path }` needs a server the transport owns (`listen: { host, port }`).
 */
export function metricsRoute(metrics: unknown, listen: unknown, holder: { endpoint?: MetricsEndpoint }): HttpRoute | undefined {
  const m = checkMetricsOptions(metrics);
  if (!m) return undefined;
  if ('path' in m && (listen === null || typeof listen !== 'object' || 'server' in listen)) {
    throw new InvalidOptionError('metrics.path', 'needs listen: { host, port } (a server of this node); give metrics: { port } instead');
  }
  return {
    path: 'path' in m ? m.path : '/metrics',
    listen: 'port' in m ? { host: m.host ?? METRICS_HOST_DEFAULT, port: m.port } : undefined,
    answer: async () => {
      if (!holder.endpoint) throw new Error('the node is starting');
      return { contentType: holder.endpoint.contentType, body: await holder.endpoint.text() };
    },
  };
}

export interface MetricsEndpoint {
  readonly registry: Registry;
  readonly contentType: string;
  /** The exposition text. */
  text(): Promise<string>;
  data(): Promise<MetricsData>;
}

/**
 * Builds `sup`'s registry, attaches it as `sup.metrics()`, and starts observing steps and events.
 * `processMetrics` adds prom-client's default process metrics (for a served endpoint).
 */
export function attachMetrics(sup: Supervisor, o: { processMetrics: boolean }): MetricsEndpoint {
  const registry = new Registry();
  if (o.processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  new Gauge({
    name: 'trellis_members', help: 'Members this node knows, itself included, by status.', labelNames: ['status'], registers,
    collect() {
      this.reset();
      for (const m of sup.members()) this.inc({ status: m.status });
    },
  });
  new Gauge({
    name: 'trellis_children', help: 'Desired children in the cluster, as this node sees them, by kind and status.', labelNames: ['kind', 'status'], registers,
    collect() {
      this.reset();
      for (const c of sup.whichChildren('global')) this.inc({ kind: c.kind, status: c.status });
    },
  });
  const restarts = new Counter({ name: 'trellis_child_restarts_total', help: 'Restarts of children on this node.', registers });
  // Moves are counted here and handed to the counter when it is read: a failover moves thousands
  // of children in one step, and a labelled inc per move cost the step's host 8 ms.
  const moved: Record<(typeof MOVE_REASONS)[number], number> = { failover: 0, handover: 0, rebalance: 0 };
  const moves = new Counter({
    name: 'trellis_moves_total', help: 'Children seen moving from one member to another, by why the old member gave it up.', labelNames: ['reason'], registers,
    collect() {
      for (const reason of MOVE_REASONS) { if (moved[reason]) this.inc({ reason }, moved[reason]); moved[reason] = 0; }
    },
  });
  for (const reason of MOVE_REASONS) moves.inc({ reason }, 0);
  new Counter({
    name: 'trellis_link_rejected_total', help: 'Links and frames refused by this node, by reason.', labelNames: ['reason'], registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(sup.rejectedFrames())) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: 'trellis_frames_total', help: 'Frames carried over links, by direction.', labelNames: ['direction'], registers,
    collect() {
      this.reset();
      this.inc({ direction: 'in' }, sup.frameCounts.in);
      this.inc({ direction: 'out' }, sup.frameCounts.out);
    },
  });
  const steps = new Histogram({ name: 'trellis_step_duration_seconds', help: 'Duration of one core step (one batch of events).', buckets: [...STEP_SECONDS_BUCKETS], registers });
  sup.onStepSeconds = (s) => steps.observe(s);
  // Members are read once per batch of moves, not once per move (a failover moves thousands).
  let known: Map<string, MemberView> | undefined;
  sup.on('event', (e) => {
    if (e.type === 'child_restarting') restarts.inc();
    else if (e.type === 'child_moved') {
      if (!known) {
        known = new Map(sup.members().map((m) => [m.name, m]));
        queueMicrotask(() => { known = undefined; });
      }
      moved[moveReason(known.get(e.from))]++;
    }
  });
  const endpoint: MetricsEndpoint = {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    data: async () => (await registry.getMetricsAsJSON()).map((f) => ({
      name: f.name, help: f.help, type: String(f.type) as MetricFamily['type'],
      values: f.values.map((v) => ({ value: v.value, labels: { ...v.labels } as MetricSample['labels'], ...('metricName' in v && v.metricName ? { metricName: v.metricName as string } : {}) })),
    })),
  };
  sup.attachMetrics(endpoint.data);
  return endpoint;
}
