export { RegionGrid } from './RegionGrid';
