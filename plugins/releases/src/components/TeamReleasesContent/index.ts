export { TeamReleasesContent } from './TeamReleasesContent';
