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

  it('gets no evidence at 100 % (no baseline) or without errors', () => {
    const oracle = new OracleSprt(3);
    for (let i = 0; i < 1000; i++) expect(oracle.update(5, 1000, 0, 0)).toBe(false);
    expect(oracle.update(0, 100, 0, 100)).toBe(false);
  });
});
