import { SeededRandom } from '@release-pilot/plugin-releases-core';
import { gridScenario } from './powerGrid';
import { OracleSprt, oracleRun } from './oracleSprt';

describe('the oracle SPRT', () => {
  it('rejects a 3x regression within two minutes at 2,000 requests/s on the default plan, and at most alpha of runs at the null', () => {
    expect(oracleRun(gridScenario('default', 2000, 3), 1, 3)).toBeLessThan(120);
    // At the null ratio (1.2) itself, the test's level: at most alpha of runs ever reject.
    const random = SeededRandom.fromKey('oracle-null');
    let rejected = 0;
    for (let run = 0; run < 2000; run++) {
      const oracle = new OracleSprt(2, 1.2, 0.01);
      for (let tick = 0; tick < 300; tick++) {
        const [nc, nb] = [30, 270];
        if (oracle.update(random.poisson(nc * 0.006), nc, random.poisson(nb * 0.005), nb)) {
          rejected++;
          break;
        }
      }
    }
    expect(rejected / 2000).toBeLessThanOrEqual(0.01);
  });

  it('at 100 % compares the canary with the baseline it saw before, and gets no evidence without errors', () => {
    const rejectsAlone = (canaryErrors: number) => {
      const oracle = new OracleSprt(3);
      // Earlier ticks: canary and baseline at the same 0.5 % (no evidence either way).
      for (let i = 0; i < 20; i++) oracle.update(5, 1000, 50, 10000);
      return Array.from({ length: 100 }, () => oracle.update(canaryErrors, 1000, 0, 0)).some(Boolean);
    };
    // 1,000 requests a tick at 0.5 % (5 errors) never reject; at 3x (15 errors) they do.
    expect(rejectsAlone(5)).toBe(false);
    expect(rejectsAlone(15)).toBe(true);
    // Alone from the start there is no baseline to compare with.
    const alone = new OracleSprt(3);
    expect(Array.from({ length: 100 }, () => alone.update(15, 1000, 0, 0)).some(Boolean)).toBe(false);
    expect(new OracleSprt(3).update(0, 100, 0, 100)).toBe(false);
  });
});
