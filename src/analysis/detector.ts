import type { FunctionStats, Totals } from './function-stats';
import type { Finding } from './finding';
import type { SourceFiles } from './source-files';
import type { StackModel } from '../profile/stack-model';

/** What every detector reads: the model, per-function stats (with line ticks) and the sources. */
export interface DetectorInput {
  model: StackModel;
  stats: Map<number, FunctionStats>;
  totals: Totals;
  sources: SourceFiles;
}

/** A detector is a pure function of its input. */
export type Detector = (input: DetectorInput) => Finding[];
