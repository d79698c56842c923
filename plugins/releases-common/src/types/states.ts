/** The states of a release. Transitions between them are explicit; see `RELEASE_TRANSITIONS`. */
export type ReleaseState =
  | 'pending'
  | 'deploying'
  /** The resilience gate: chaos experiments on the canary (at 0 %) and a stable instance, before any traffic. */
  | 'gating'
  | 'running'
  | 'paused'
  | 'watching'
  | 'promoting'
  | 'succeeded'
  | 'rolling_back'
  | 'rolled_back'
  | 'failed';

/** Every release state, in lifecycle order. */
export const RELEASE_STATES: readonly ReleaseState[] = [
  'pending',
  'deploying',
  'gating',
  'running',
  'paused',
  'watching',
  'promoting',
  'rolling_back',
  'succeeded',
  'rolled_back',
  'failed',
];

/** The allowed transitions of the release state machine; anything else is refused. */
export const RELEASE_TRANSITIONS: Readonly<
  Record<ReleaseState, readonly ReleaseState[]>
> = {
  // Deploying the canary side at 0 % (targets with a deployer), or straight to the steps (unmanaged).
  pending: ['deploying', 'running', 'rolling_back'],
  deploying: ['gating', 'running', 'rolling_back'],
  // The resilience gate passes (the first step), fails (rolled back before any traffic), or is
  // inconclusive (paused for a person; resuming runs the experiment again).
  gating: ['running', 'paused', 'rolling_back'],
  // Promoting: the stable side gets the version, traffic goes back to it, the canary is scaled down.
  running: ['paused', 'watching', 'promoting', 'succeeded', 'rolling_back'],
  paused: ['gating', 'running', 'promoting', 'succeeded', 'rolling_back'],
  watching: ['promoting', 'succeeded', 'rolling_back'],
  promoting: ['succeeded', 'rolling_back'],
  rolling_back: ['rolled_back', 'failed'],
  // A person may roll back the last release that succeeded: traffic goes back to the previous version.
  succeeded: ['rolling_back'],
  rolled_back: [],
  failed: [],
};

/** States in which a release still holds its entity (at most one per entity). */
export const ACTIVE_RELEASE_STATES: readonly ReleaseState[] = [
  'pending',
  'deploying',
  'gating',
  'running',
  'paused',
  'watching',
  'promoting',
  'rolling_back',
];

/** True while the release holds its entity and the driver still works on it. */
export function isActiveRelease(state: ReleaseState): boolean {
  return ACTIVE_RELEASE_STATES.includes(state);
}
