export { VerdictEvidence } from './VerdictEvidence';
export { describeEvidence, formatMetric, formatRatio, METRIC_LABELS } from './format';
