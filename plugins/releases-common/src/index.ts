/**
 * Types, API schemas and annotation keys shared by the Release Pilot frontend and backend.
 *
 * @packageDocumentation
 */
export * from './annotations';
export * from './types';
export * from './trafficStats';
export * from './schema';
export * from './permissions';
export * from './progress';
export * from './detectable';
export * from './evidence';
export * from './signals';
