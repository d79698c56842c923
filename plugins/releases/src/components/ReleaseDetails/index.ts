export { ReleaseDetails } from './ReleaseDetails';
