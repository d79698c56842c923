export { ReleasesTable, progressText } from './ReleasesTable';
