/**
 * Release Pilot's Datadog metric provider.
 *
 * @packageDocumentation
 */
export { releasesModuleDatadog as default } from './module';
export { DatadogMetricProvider, DATADOG_SCOPE_ANNOTATIONS, asTagValue } from './DatadogMetricProvider';
export { DatadogClient, DatadogError } from './DatadogClient';
export type { DatadogSeries } from './DatadogClient';
export { histogramFromPercentiles } from './percentiles';
export { readDatadogOptions, datadogOptionsSchema } from './config';
export type { DatadogOptions } from './config';
