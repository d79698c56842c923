/** Test fixtures for the engine and judges, shared by the core's and the backend plugin's tests. */
export * from './fixtures';
export * from './sharedData';
