export * from './states';
export * from './plans';
export * from './metrics';
export * from './timeline';
export * from './risk';
export * from './release';
export * from './overview';
export * from './regions';
