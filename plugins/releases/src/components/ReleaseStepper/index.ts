export { ReleaseStepper, releaseProgress } from './ReleaseStepper';
