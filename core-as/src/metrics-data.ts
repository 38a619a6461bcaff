// The shape of `sup.metrics()`: metric families as prom-client's getMetricsAsJSON() gives them,
// declared here so that the runtime (shared with the browser host) needs no prom-client types.

export interface MetricSample {
  value: number;
  labels: Record<string, string | number>;
  /** For histograms: the series name (`..._bucket`, `..._sum`, `..._count`). */
  metricName?: string;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  values: MetricSample[];
}

export type MetricsData = MetricFamily[];
