export { DoraFigures, formatSeconds } from './DoraFigures';
