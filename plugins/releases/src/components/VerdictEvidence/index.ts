export { VerdictEvidence } from './VerdictEvidence';
export { formatMetric, formatRatio, METRIC_LABELS } from './format';
