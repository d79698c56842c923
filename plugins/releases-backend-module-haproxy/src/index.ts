/**
 * Release Pilot's HAProxy traffic router.
 *
 * @packageDocumentation
 */
export { releasesModuleHaproxy as default } from './module';
export { HaproxyTrafficRouter, HAPROXY_ANNOTATIONS, serverWeights } from './HaproxyTrafficRouter';
export { RuntimeApi, HaproxyError, parseRuntimeApiAddress } from './RuntimeApi';
export { readHaproxyOptions, haproxyOptionsSchema } from './config';
export type { HaproxyOptions } from './config';
