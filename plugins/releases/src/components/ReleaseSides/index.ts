export { ReleaseSides, phaseText, sidesText } from './ReleaseSides';
