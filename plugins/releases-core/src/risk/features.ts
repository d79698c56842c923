import { Release } from '@release-pilot/plugin-releases-common';

/**
 * A release feature: where its value comes from and how to say it in words. Metadata features are
 * read from the release request's `metadata` (sent by CI or typed in the Start dialog; all optional);
 * history features are computed from the releases in the database.
 */
export interface RiskFeature {
  name: string;
  /** Words for an explanation, e.g. "lines changed". */
  label: string;
  /** How a value is shown: a count, a share (0-1 shown as %), hours, a yes/no flag, a ratio. */
  unit: 'count' | 'share' | 'hours' | 'flag' | 'ratio' | 'score';
}

/** Metadata keys a pipeline may send with a release, and what they mean. */
export const METADATA_FEATURES: RiskFeature[] = [
  { name: 'linesAdded', label: 'lines added', unit: 'count' },
  { name: 'linesDeleted', label: 'lines deleted', unit: 'count' },
  /** Derived: lines added plus deleted, when either is known. */
  { name: 'linesChanged', label: 'lines changed', unit: 'count' },
  { name: 'filesChanged', label: 'files changed', unit: 'count' },
  { name: 'subsystems', label: 'subsystems touched', unit: 'count' },
  { name: 'directories', label: 'directories touched', unit: 'count' },
  { name: 'entropy', label: 'spread of the change across files', unit: 'score' },
  { name: 'complexityDelta', label: 'change in code complexity', unit: 'score' },
  { name: 'dependencyChanges', label: 'dependencies changed', unit: 'count' },
  { name: 'majorDependencyChanges', label: 'major dependency upgrades', unit: 'count' },
  { name: 'breaking', label: 'breaking change', unit: 'flag' },
  { name: 'coverage', label: 'test coverage', unit: 'share' },
  { name: 'testsAdded', label: 'tests added', unit: 'count' },
  { name: 'mutationScore', label: 'mutation score', unit: 'share' },
];

/** Features Release Pilot computes from the history and the clock. */
export const HISTORY_FEATURES: RiskFeature[] = [
  { name: 'serviceFailureRate', label: "the service's recent rollback rate", unit: 'share' },
  { name: 'serviceReleases', label: "the service's recent releases", unit: 'count' },
  { name: 'authorReleases', label: "the author's releases", unit: 'count' },
  { name: 'authorFailureRate', label: "the author's rollback rate", unit: 'share' },
  { name: 'authorServiceReleases', label: "the author's releases of this service", unit: 'count' },
  { name: 'hoursSinceLastRelease', label: 'hours since the last release of the service', unit: 'hours' },
  { name: 'dayOfWeek', label: 'day of the week (0 Sunday)', unit: 'count' },
  { name: 'hourUtc', label: 'hour of the day (UTC)', unit: 'count' },
  { name: 'trafficRatio', label: 'traffic now relative to the usual', unit: 'ratio' },
];

export const RISK_FEATURES: RiskFeature[] = [...METADATA_FEATURES, ...HISTORY_FEATURES];

export const featureByName = new Map(RISK_FEATURES.map(f => [f.name, f]));

/** The features of one release, by name; absent ones are unknown. */
export type FeatureValues = Record<string, number>;

/** Reads the metadata features, accepting numbers, numeric strings and booleans (breaking: true). */
export function metadataFeatures(metadata: Record<string, unknown>): FeatureValues {
  const values: FeatureValues = {};
  for (const { name, unit } of METADATA_FEATURES.filter(f => f.name !== 'linesChanged')) {
    const raw = metadata[name];
    let value: number | undefined;
    if (typeof raw === 'boolean') value = raw ? 1 : 0;
    else if (typeof raw === 'number') value = raw;
    else if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) value = Number(raw);
    if (value === undefined || !Number.isFinite(value)) continue;
    // Shares may come as percentages.
    if (unit === 'share' && value > 1 && value <= 100) value /= 100;
    values[name] = value;
  }
  if (Number.isFinite(values.linesAdded) || Number.isFinite(values.linesDeleted)) {
    values.linesChanged = (values.linesAdded ?? 0) + (values.linesDeleted ?? 0);
  }
  return values;
}

/** Whether the request said how big the change is (lines or files changed). */
export function changeSizeKnown(values: FeatureValues): boolean {
  return Number.isFinite(values.linesChanged) || Number.isFinite(values.filesChanged);
}

/** Words for the change size's absence, shown with the risk. */
export const UNKNOWN_CHANGE_SIZE = 'change size (no lines or files changed were sent)';

const FAILED = new Set(['rolled_back', 'failed']);
const FINISHED = new Set(['succeeded', 'rolled_back', 'failed']);

/** Whether a finished release counts as failed (1), succeeded (0), or is not an outcome yet. */
export function outcomeOf(state: Release['state']): 0 | 1 | undefined {
  if (!FINISHED.has(state)) return undefined;
  return FAILED.has(state) ? 1 : 0;
}

/**
 * History and clock features of a release requested `at` by `author`, from earlier releases (any
 * order; only those before `at` count): the service's last `window` finished releases, the author's
 * record over all services and on this one, and the time since the service's last release.
 */
export function historyFeatures(
  entityRef: string,
  author: string,
  at: Date,
  earlier: Array<Pick<Release, 'entityRef' | 'createdBy' | 'createdAt' | 'state'> & { author?: string }>,
  window = 20,
): FeatureValues {
  const before = earlier
    .filter(r => new Date(r.createdAt).getTime() < at.getTime())
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const service = before.filter(r => r.entityRef === entityRef);
  const serviceFinished = service.filter(r => outcomeOf(r.state) !== undefined).slice(0, window);
  const byAuthor = before.filter(r => (r.author ?? r.createdBy) === author);
  const authorFinished = byAuthor.filter(r => outcomeOf(r.state) !== undefined);
  const rate = (rs: typeof before) => (rs.length ? rs.filter(r => outcomeOf(r.state) === 1).length / rs.length : NaN);
  const values: FeatureValues = {
    serviceReleases: serviceFinished.length,
    authorReleases: byAuthor.length,
    authorServiceReleases: byAuthor.filter(r => r.entityRef === entityRef).length,
    dayOfWeek: at.getUTCDay(),
    hourUtc: at.getUTCHours(),
  };
  const serviceRate = rate(serviceFinished);
  if (Number.isFinite(serviceRate)) values.serviceFailureRate = serviceRate;
  const authorRate = rate(authorFinished);
  if (Number.isFinite(authorRate)) values.authorFailureRate = authorRate;
  if (service.length) values.hoursSinceLastRelease = (at.getTime() - new Date(service[0].createdAt).getTime()) / 3_600_000;
  return values;
}

/** A row for the model, in `features` order, NaN where unknown. */
export function toRow(values: FeatureValues, features: string[] = RISK_FEATURES.map(f => f.name)): number[] {
  return features.map(f => (Number.isFinite(values[f]) ? values[f] : NaN));
}
