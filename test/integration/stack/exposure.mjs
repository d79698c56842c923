// How much traffic a version got before it was judged, measured from outside Release Pilot: from
// the answers users received (each names the version and the HAProxy server that served it) and
// from HAProxy's weights read every 100 ms, held against what each release's plan allowed at that
// moment (from its timeline). Pure, so test/integration/exposure.test.mjs can show that it catches
// a router, a deployer or a rollback that exposes a version more than its plan says.

/** Weight changes of a release's timeline: [time, allowed canary %] in order, and when its version counts as judged. */
export function allowedWeights(release) {
  const at = e => Date.parse(e.at);
  const changes = [];
  let judgedAt = Infinity;
  let allowed = 0;
  for (const e of release.timeline) {
    if (e.type === 'started') allowed = release.plan.steps[0].weight;
    else if (e.type === 'step_advanced') allowed = e.data?.weight ?? allowed;
    // A person's promote is a person's judgement: the last step's weight from then on.
    else if (e.type === 'promoted') allowed = release.plan.steps.at(-1).weight;
    // The rollback's weight 0 is set before rollback_started is stored and done once traffic_restored is.
    else if (e.type === 'traffic_restored' || e.type === 'rolled_back') allowed = 0;
    else if (e.type === 'promotion_started') judgedAt = Math.min(judgedAt, at(e));
    else continue;
    changes.push([at(e), allowed]);
  }
  return { changes, judgedAt };
}

/** The allowed canary % at time t: the last change at or before it (0 before the first). */
function allowedAt(changes, t) {
  let allowed = 0;
  for (const [at, weight] of changes) {
    if (at > t) break;
    allowed = weight;
  }
  return allowed;
}

/** The most any moment of [from, to) allowed. */
function mostAllowed(changes, from, to) {
  let most = allowedAt(changes, from);
  for (const [at, weight] of changes) if (at >= from && at < to) most = Math.max(most, weight);
  return most;
}

/**
 * Answers by a version not yet judged beyond its plan's weight, and by a version after its rollback.
 * - `releases`: each with version, state, plan and timeline (the API's release details);
 * - `answers`: { sentAt, version, servedBy } per request users sent;
 * - `weights`: { at, canary, stable } HAProxy's weights, read every 100 ms.
 * From the deploy until the version is judged (its promotion starts) or rolled back:
 * `beyondPlan`: answers by the version in one-second bins where its share of all answers is above
 * the plan's weight by more than binomial noise (3 standard deviations and one answer); where the
 * plan allowed 0 % (before the canary's first step) none at all is allowed;
 * `fromStable`: answers by the version from the stable side;
 * `readingsAbovePlan`: HAProxy weight readings that gave the canary more than the plan allowed.
 * After a rollback has put all traffic back on the stable side (its last `traffic_restored`):
 * `afterRollback`: answers by the rolled-back version to requests sent from then on.
 */
export function exposureBeyondPlan({ releases, answers, weights }) {
  const result = { answersChecked: 0, bins: 0, beyondPlan: 0, fromStable: 0, readingsChecked: 0, readingsAbovePlan: 0, afterRollback: 0, examples: [] };
  const example = text => result.examples.length < 5 && result.examples.push(text);
  const iso = t => new Date(t).toISOString();
  for (const release of releases) {
    const { changes, judgedAt } = allowedWeights(release);
    const times = type => release.timeline.filter(e => e.type === type).map(e => Date.parse(e.at));
    const deployedAt = Math.min(...times('deploy_started'), ...times('started'));
    const restored = times('traffic_restored');
    const restoredAt = release.state === 'rolled_back' ? Math.max(...(restored.length ? restored : times('rolled_back'))) : Infinity;
    const end = Math.min(judgedAt, restoredAt);
    const bins = new Map();
    for (const a of answers) {
      if (a.version === release.version && a.sentAt >= restoredAt) {
        result.afterRollback++;
        example(`${release.version} answered a request sent at ${iso(a.sentAt)}, after its rollback`);
      }
      if (a.sentAt < deployedAt || a.sentAt >= end) continue;
      const bin = Math.floor(a.sentAt / 1000);
      const entry = bins.get(bin) ?? { all: 0, version: 0 };
      entry.all++;
      if (a.version === release.version) {
        entry.version++;
        result.answersChecked++;
        if (a.servedBy === 'stable') {
          result.fromStable++;
          example(`${release.version} served by the stable side at ${iso(a.sentAt)}, before it was judged`);
        }
      }
      bins.set(bin, entry);
    }
    for (const [bin, { all, version }] of bins) {
      if (version === 0) continue;
      result.bins++;
      const w = mostAllowed(changes, bin * 1000, (bin + 1) * 1000) / 100;
      const margin = w > 0 ? 3 * Math.sqrt(all * w * (1 - w)) + 1 : 0;
      if (version > all * w + margin) {
        result.beyondPlan += version - Math.floor(all * w);
        example(`${release.version}: ${version} of ${all} answers in the second from ${iso(bin * 1000)}, plan ${w * 100}%`);
      }
    }
    for (const reading of weights) {
      if (reading.at < deployedAt || reading.at >= end) continue;
      result.readingsChecked++;
      const share = reading.canary + reading.stable > 0 ? (100 * reading.canary) / (reading.canary + reading.stable) : 0;
      // A reading shows HAProxy's weight at some moment of the 100 ms before it was stamped.
      if (share > mostAllowed(changes, reading.at - 100, reading.at + 1) + 0.5) {
        result.readingsAbovePlan++;
        example(`${release.version}: HAProxy gave the canary ${share.toFixed(1)}% at ${iso(reading.at)}, plan ${allowedAt(changes, reading.at)}%`);
      }
    }
  }
  return result;
}
