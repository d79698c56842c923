import { SeededRandom } from '@release-pilot/plugin-releases-core';
import { evaluateCsv, TUNING_GRID } from './evaluate';

/** 1,000 changes in time order: failures grow with the first feature, the second is noise. */
function changes(flipTest: boolean) {
  const seeded = new SeededRandom(11);
  const random = () => seeded.uniform();
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const size = random() * 10;
    rows.push([size, random()]);
    const failed = random() < 0.05 + 0.08 * size ? 1 : 0;
    // The newest 20 % (the test rows) can be turned upside down without the tuning noticing.
    labels.push(flipTest && i >= 800 ? 1 - failed : failed);
  }
  return { features: ['size', 'noise'], rows, labels };
}

describe('evaluateCsv --tune', () => {
  it('chooses the window and leaf size inside the training rows: the test rows cannot change the choice', () => {
    const honest = evaluateCsv(changes(false), { trainFraction: 0.8, tune: true });
    const flipped = evaluateCsv(changes(true), { trainFraction: 0.8, tune: true });
    expect(honest.tuned!.candidates).toHaveLength(TUNING_GRID.windows.length * TUNING_GRID.minLeafRows.length);
    expect(flipped.tuned).toEqual(honest.tuned);
    // The test rows are what the report is about: the same model, judged on labels turned upside down.
    expect(honest.auc).toBeGreaterThan(0.7);
    expect(flipped.auc).toBeCloseTo(1 - honest.auc, 5);
    expect(honest.testRows).toBe(200);
  });
});
