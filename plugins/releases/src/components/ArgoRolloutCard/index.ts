export { ArgoRolloutCard } from './ArgoRolloutCard';
