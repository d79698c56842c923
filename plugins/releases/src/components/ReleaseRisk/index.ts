export { ReleaseRisk } from './ReleaseRisk';
