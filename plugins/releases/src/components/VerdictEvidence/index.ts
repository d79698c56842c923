export { VerdictEvidence } from './VerdictEvidence';
export { describeEvidence, formatMetric, formatRatio, metricLabel } from './format';
