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
} from './PrometheusMetricProvider';
/** Moved to `@release-pilot/plugin-releases-node`; exported here as before. */
export { histogramFromBuckets } from '@release-pilot/plugin-releases-node';
export { PrometheusClient, PrometheusError } from './PrometheusClient';
export type { RangeSeries } from './PrometheusClient';
export { readPrometheusOptions, prometheusOptionsSchema } from './config';
export type { PrometheusOptions } from './config';
