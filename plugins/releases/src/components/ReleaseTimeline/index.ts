export { ReleaseTimeline } from './ReleaseTimeline';
