export { ResilienceGate } from './ResilienceGate';
