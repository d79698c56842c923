import { Worker } from 'node:worker_threads';
import { runTrainJob, TrainJob } from './trainJob';
import { SerializedRiskModel } from './RiskModel';

/**
 * Trains in a worker thread so the backend's event loop never stalls on the forest (seconds of CPU).
 * The worker loads the training code itself; when it cannot (a test runner whose TypeScript hooks
 * a worker does not inherit), training runs in-process instead and `inWorker` says so.
 */
export async function trainInWorker(job: TrainJob): Promise<{ model: SerializedRiskModel; inWorker: boolean }> {
  // From source (the monorepo) './trainJob' resolves to trainJob.ts; the built package has trainJob.cjs.js next to this file.
  const trainJob = __filename.endsWith('.cjs.js') ? __filename.replace(/[^/\\]+\.cjs\.js$/, 'trainJob.cjs.js') : require.resolve('./trainJob');
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    try { require.resolve('sucrase/register/ts') && ${JSON.stringify(__filename)}.endsWith('.ts') && require('sucrase/register/ts'); } catch {}
    const { runTrainJob } = require(${JSON.stringify(trainJob)});
    parentPort.postMessage(runTrainJob(workerData));
  `;
  try {
    const model = await new Promise<SerializedRiskModel>((resolve, reject) => {
      const worker = new Worker(source, { eval: true, workerData: job });
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', code => {
        if (code !== 0) reject(new Error(`the training worker exited with ${code}`));
      });
    });
    return { model, inWorker: true };
  } catch {
    return { model: runTrainJob(job), inWorker: false };
  }
}
