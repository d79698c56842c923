export { ReleaseStepper, stepProgress } from './ReleaseStepper';
