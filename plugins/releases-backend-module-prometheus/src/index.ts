/**
 * Release Pilot's Prometheus metric provider.
 *
 * @packageDocumentation
 */
export { releasesModulePrometheus as default } from './module';
export {
  PrometheusMetricProvider,
  PROMETHEUS_SELECTOR_ANNOTATIONS,
  counterIncrease,
  histogramFromBuckets,
} from './PrometheusMetricProvider';
export { PrometheusClient, PrometheusError } from './PrometheusClient';
export type { RangeSeries } from './PrometheusClient';
export { readPrometheusOptions, prometheusOptionsSchema } from './config';
export type { PrometheusOptions } from './config';
