import { ConfigReader } from '@backstage/config';
import { readReleasesConfig } from './config';

describe('readReleasesConfig', () => {
  it('defaults the tick to 5 seconds', () => {
    expect(readReleasesConfig(new ConfigReader({})).tickSeconds).toBe(5);
  });

  it('refuses a tick below one second', () => {
    expect(() => readReleasesConfig(new ConfigReader({ releases: { engine: { tickSeconds: 0.5 } } }))).toThrow(
      'Invalid config releases.engine.tickSeconds: 0.5; it must be a number of at least 1',
    );
  });

  it('reads judge thresholds', () => {
    const config = readReleasesConfig(new ConfigReader({ releases: { judge: { p95FailRatio: 3, windowSeconds: 10 } } }));
    expect(config.judge.p95FailRatio).toBe(3);
    expect(config.driver.analysisWindowSeconds).toBe(10);
  });
});
