export { releasesApiRef } from './ReleasesApi';
export type { ReleasesApi } from './ReleasesApi';
export { ReleasesClient } from './ReleasesClient';
