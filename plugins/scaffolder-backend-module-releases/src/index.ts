/**
 * The scaffolder action `releases:enable`, which enables Release Pilot for a component.
 *
 * @packageDocumentation
 */
export { scaffolderModuleReleases as default } from './module';
export { createEnableReleasesAction } from './actions/enableReleases';
