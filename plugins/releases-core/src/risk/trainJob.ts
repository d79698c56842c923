import { ForestOptions } from './forest';
import { RiskModel, SerializedRiskModel, TrainingSet } from './RiskModel';

/** What a training job gets: the time-ordered history and the forest's options. */
export interface TrainJob {
  set: TrainingSet;
  forest?: ForestOptions;
  now: string;
}

/** Trains and validates (newest rows held out), returning the stored form. Runs in a worker thread. */
export function runTrainJob(job: TrainJob): SerializedRiskModel {
  const { validation } = RiskModel.evaluate(job.set, { forest: job.forest });
  return RiskModel.train(job.set, { forest: job.forest, now: new Date(job.now) }).withValidation(validation).toJSON();
}
