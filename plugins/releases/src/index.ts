/**
 * Release Pilot's frontend plugin: the Releases tab on catalog entity pages.
 *
 * @packageDocumentation
 */
export { releasesPlugin, EntityReleasesContent, EntityTeamReleasesContent, ReleasesPage } from './plugin';
export { isReleasesAvailable } from './isReleasesAvailable';
export { releasesApiRef, ReleasesClient } from './api';
export type { ReleasesApi } from './api';
