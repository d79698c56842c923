export { ReleaseCharts } from './ReleaseCharts';
export { toChartPoints, toChartMarkers } from './chartData';
