export { ReleaseHistory, formatDuration } from './ReleaseHistory';
