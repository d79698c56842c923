import { LoggerService } from '@backstage/backend-plugin-api';
import { ReleasePlan, RiskAssessment, RiskReason } from '@release-pilot/plugin-releases-common';
import { MetricProvider, PlanMinimums, ReleaseTargetContext } from '@release-pilot/plugin-releases-node';
import { changeSizeKnown, Clock, DEFAULT_MINIMUMS, featureByName, FeatureContribution, FeatureValues, historyFeatures, metadataFeatures, outcomeOf, priorAssessment, RISK_FEATURES, RiskModel, SerializedRiskModel, toRow, trainInWorker, UNKNOWN_CHANGE_SIZE } from '@release-pilot/plugin-releases-core';
import { ReleasesStore } from '../database/ReleasesStore';
import { bucketRps, readTraffic } from '../driver/traffic';

/** `releases.risk` in app-config. */
export interface RiskOptions {
  /** Above this probability a release is blocked unless overridden. */
  blockThreshold: number;
  /** Per owning team (a group entity ref or name): its own block threshold. */
  teamThresholds: Record<string, number>;
  /** Below this probability the plan is made faster; at or above `highRiskAbove`, stricter. */
  lowRiskBelow: number;
  highRiskAbove: number;
  /** Traffic this many times the usual for the time of day counts as busy: the stricter plan, not a freeze. */
  busyTrafficRatio: number;
  /** Finished releases (plus imported history) needed before the forest replaces the prior. */
  minTrainingRows: number;
}

export const DEFAULT_RISK_OPTIONS: RiskOptions = {
  blockThreshold: 0.85,
  teamThresholds: {},
  lowRiskBelow: 0.1,
  highRiskAbove: 0.5,
  busyTrafficRatio: 1.5,
  minTrainingRows: 200,
};

/** Annotation with an entity's own block threshold (0-1). */
export const RISK_THRESHOLD_ANNOTATION = 'release-pilot.io/risk-threshold';

const percent = (p: number) => `${Math.round(100 * p)}%`;

function formatValue(feature: string, value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return 'unknown';
  switch (featureByName.get(feature)?.unit) {
    case 'share':
      return percent(value);
    case 'flag':
      return value ? 'yes' : 'no';
    case 'hours':
      return value >= 48 ? `${Math.round(value / 24)} days` : `${Math.round(value)} h`;
    case 'ratio':
      return `${value.toFixed(1)}x`;
    default:
      if (Number.isInteger(value) || Math.abs(value) >= 10) return Math.round(value).toLocaleString('en-US');
      return value.toFixed(2);
  }
}

/** An explanation line: "2,400 lines added (usually 120): +31 points". */
export function reasonOf(c: FeatureContribution): RiskReason {
  const label = featureByName.get(c.feature)?.label ?? c.feature;
  const points = Math.round(100 * c.effect);
  return {
    feature: c.feature,
    text: `${label}: ${formatValue(c.feature, c.value)} (usually ${formatValue(c.feature, c.usual)}), ${points >= 0 ? '+' : ''}${points} points`,
    effect: c.effect,
  };
}

/**
 * Predicts the risk of a release before it starts, explains it, gates it and shapes its plan. The
 * forest is trained from the finished releases (their features at request time and their outcome)
 * and imported history, newest `DEFAULT_TRAIN_WINDOW` rows; until `minTrainingRows` exist, the
 * transparent prior decides.
 */
export class RiskService {
  private model?: RiskModel;

  constructor(
    private readonly deps: { store: ReleasesStore; clock: Clock; logger: LoggerService; options: RiskOptions },
  ) {}

  get options(): RiskOptions {
    return this.deps.options;
  }

  /** The model that predicts now: the forest with its figures, or the prior and what it waits for. */
  info() {
    const model = this.model;
    if (!model) return { model: 'prior' as const, minTrainingRows: this.deps.options.minTrainingRows };
    return { model: 'forest' as const, trainedAt: model.trainedAt, rows: model.rows, validation: model.validation };
  }

  /** Loads the newest stored model, if any. */
  async load(): Promise<void> {
    const stored = (await this.deps.store.risk.latestModel()) as SerializedRiskModel | undefined;
    if (stored) this.model = RiskModel.fromJSON(stored);
  }

  /** Retrains from the history in the database and stores the model (with its validation figures). */
  async retrain(): Promise<RiskModel | undefined> {
    const { store, clock, logger, options } = this.deps;
    const since = new Date(clock.now().getTime() - 3 * 365 * 86_400_000).toISOString();
    const [releases, imported] = await Promise.all([store.risk.listReleaseHistory(since), store.risk.listImported()]);
    const examples = [
      ...imported.map(d => ({ at: d.at, features: d.features, outcome: d.outcome })),
      ...releases
        .filter(r => r.features && outcomeOf(r.state) !== undefined)
        .map(r => ({ at: r.createdAt, features: r.features!, outcome: outcomeOf(r.state)! })),
    ].sort((a, b) => a.at.localeCompare(b.at));
    const labels = examples.map(e => e.outcome);
    if (examples.length < options.minTrainingRows || !labels.includes(0) || !labels.includes(1)) {
      logger.info(`Risk model: ${examples.length} finished releases with features; the prior decides until there are ${options.minTrainingRows} with both outcomes`);
      return undefined;
    }
    const features = RISK_FEATURES.map(f => f.name);
    const set = { features, rows: examples.map(e => toRow(e.features, features)), labels };
    const started = Date.now();
    const { model: trained, inWorker } = await trainInWorker({ set, now: clock.now().toISOString() });
    const model = RiskModel.fromJSON(trained);
    const validation = model.validation!;
    await store.risk.saveModel({ trainedAt: model.trainedAt, rows: model.rows, validation, model: trained });
    this.model = model;
    logger.info(
      `Risk model trained on ${model.rows} releases in ${((Date.now() - started) / 1000).toFixed(1)} s ${inWorker ? 'in a worker thread' : 'in-process'}; ` +
        `on the newest ${validation.testRows} held out: AUC ${validation.auc.toFixed(3)}, Brier ${validation.brier.toFixed(3)}`,
    );
    return model;
  }

  /** The block threshold of an entity: its annotation, else its team's, else the default. */
  thresholdFor(annotations: Record<string, string>, owner?: string): number {
    const annotated = Number(annotations[RISK_THRESHOLD_ANNOTATION]);
    if (annotations[RISK_THRESHOLD_ANNOTATION] !== undefined && annotated > 0 && annotated <= 1) return annotated;
    const teams = this.deps.options.teamThresholds;
    const team = owner ? teams[owner] ?? teams[owner.replace(/^group:(default\/)?/, '')] : undefined;
    return team ?? this.deps.options.blockThreshold;
  }

  /**
   * The traffic now: requests per second over the last minute, relative to the median of the same
   * half hour over the past week (`ratio`), and the error rate over that week, from the target's
   * metric provider. `ratio` is NaN, and the rest missing, when the provider has no history or does
   * not answer within 3 s.
   */
  async traffic(provider: MetricProvider, context: ReleaseTargetContext): Promise<{ ratio: number; rps?: number; errorRate?: number }> {
    const now = this.deps.clock.now();
    const traffic = await readTraffic(provider, context, now, { from: new Date(now.getTime() - 7 * 86_400_000), to: new Date(now.getTime() - 3_600_000), bucketSeconds: 300 });
    if (!traffic) return { ratio: NaN };
    const requests = traffic.history.reduce((sum, b) => sum + b.stats.requests, 0);
    const errorRate = requests > 0 ? traffic.history.reduce((sum, b) => sum + b.stats.errors, 0) / requests : undefined;
    const secondOfDay = (t: number) => Math.floor(t / 1000) % 86_400;
    const nowSecond = secondOfDay(now.getTime());
    const usual = traffic.history
      .filter(b => {
        const d = Math.abs(secondOfDay(Date.parse(b.from)) - nowSecond);
        return Math.min(d, 86_400 - d) <= 1800;
      })
      .map(bucketRps)
      .sort((a, b) => a - b);
    const median = usual.length ? usual[Math.floor(usual.length / 2)] : 0;
    return { ratio: median > 0 ? traffic.rps / median : NaN, rps: traffic.rps, errorRate };
  }

  /**
   * The features of a release requested now. Only the change itself comes from the request's
   * metadata; the author's and the service's records come from stored releases, the time from the
   * clock and the traffic from the metric provider, whatever the request says about them.
   */
  async features(request: { entityRef: string; author: string; metadata: Record<string, unknown>; trafficRatio?: number }): Promise<FeatureValues> {
    const now = this.deps.clock.now();
    const earlier = await this.deps.store.risk.listReleaseHistory(new Date(now.getTime() - 365 * 86_400_000).toISOString());
    const values = { ...metadataFeatures(request.metadata), ...historyFeatures(request.entityRef, request.author, now, earlier) };
    if (request.trafficRatio !== undefined && Number.isFinite(request.trafficRatio)) values.trafficRatio = request.trafficRatio;
    return values;
  }

  /** Predicts and explains the risk of a release with these features, against the entity's threshold. */
  assess(values: FeatureValues, threshold: number): RiskAssessment {
    const model = this.model;
    const { probability, contributions } = model
      ? model.explain(toRow(values, model.features))
      : priorAssessment(values);
    return {
      probability,
      model: model ? 'forest' : 'prior',
      ...(model && { modelTrainedAt: model.trainedAt }),
      threshold,
      blocked: probability > threshold,
      reasons: contributions.slice(0, 5).map(reasonOf),
      features: Object.fromEntries(Object.entries(values).filter(([, v]) => Number.isFinite(v))),
      ...(!changeSizeKnown(values) && { unknown: [UNKNOWN_CHANGE_SIZE] }),
    };
  }

  /**
   * Shapes a plan by the risk and the traffic: low risk halves the step durations; high risk (or
   * a busy period) inserts a step at half of each weight, doubles the durations and puts a manual
   * gate before the first step at 50 % or more; otherwise the plan stays as it is.
   */
  shapePlan(plan: ReleasePlan, risk: RiskAssessment, minimums: PlanMinimums = DEFAULT_MINIMUMS): { plan: ReleasePlan; reason: string } {
    const { lowRiskBelow, highRiskAbove, busyTrafficRatio } = this.deps.options;
    const busy = (risk.features.trafficRatio ?? 0) > busyTrafficRatio;
    if (plan.strategy === 'blueGreen') {
      return { plan, reason: `blue-green plan '${plan.name}' kept as it is (risk ${percent(risk.probability)})` };
    }
    if (risk.probability >= highRiskAbove || busy) {
      const steps: ReleasePlan['steps'] = [];
      let gated = false;
      for (const step of plan.steps) {
        const half = Math.floor(step.weight / 2);
        const previous = steps.length ? steps[steps.length - 1].weight : 0;
        if (half > previous && half >= 1) {
          steps.push({ weight: half, minDurationSeconds: step.minDurationSeconds * 2, minCanaryRequests: Math.max(minimums.canaryRequests, Math.ceil(step.minCanaryRequests / 2)) });
        }
        const gate: boolean = !gated && step.weight >= 50;
        gated ||= gate;
        steps.push({ ...step, minDurationSeconds: step.minDurationSeconds * 2, ...(gate && { approval: true }) });
      }
      const why = busy
        ? `traffic ${formatValue('trafficRatio', risk.features.trafficRatio)} the usual for this time of day`
        : `risk ${percent(risk.probability)} is at or above ${percent(highRiskAbove)}`;
      return {
        plan: { ...plan, name: `${plan.name} (high risk)`, steps },
        reason: `${why}: smaller steps (${steps.map(s => `${s.weight}%`).join(' > ')}), twice as long each, and a manual gate before ${steps.find(s => s.approval)?.weight ?? 100}%`,
      };
    }
    if (risk.probability < lowRiskBelow && !changeSizeKnown(risk.features)) {
      return { plan, reason: `risk ${percent(risk.probability)}, but the change's size is unknown: plan '${plan.name}' as configured, never shortened` };
    }
    if (risk.probability < lowRiskBelow) {
      const steps = plan.steps.map(s => ({ ...s, minDurationSeconds: Math.max(minimums.stepSeconds, Math.round(s.minDurationSeconds / 2)) }));
      return {
        plan: { ...plan, name: `${plan.name} (low risk)`, steps },
        reason: `risk ${percent(risk.probability)} is below ${percent(lowRiskBelow)}: the same steps, half as long each`,
      };
    }
    return { plan, reason: `risk ${percent(risk.probability)}: plan '${plan.name}' as configured` };
  }
}
