export { ReleaseActionButton } from './ReleaseActionButton';
