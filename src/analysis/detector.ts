import type { FunctionStats, Totals } from './function-stats';
import type { Finding } from './finding';
import type { SourceFiles } from './source-files';
import type { StackModel } from '../profile/stack-model';
import type { DeoptSummary } from '../native/deopt-events';
import type { FunctionNativeCost } from '../native/native-model';

/** What every detector reads: the model, per-function stats (with line ticks) and the sources. */
export interface DetectorInput {
  model: StackModel;
  stats: Map<number, FunctionStats>;
  totals: Totals;
  sources: SourceFiles;
  /**
   * With `preheat flame --native`, when V8 was asked to log its deoptimizations: what it did with
   * each function's optimized code, and the native samples of each function. Absent otherwise.
   */
  deopts?: DeoptInput;
}

export interface DeoptInput {
  summary: DeoptSummary;
  /** Per JavaScript function: its main-thread native samples, how many ran unoptimized code, its cost categories. */
  functions: FunctionNativeCost[];
  /** All main-thread native samples: the denominator of a deopt loop's share. */
  mainSamples: number;
  /** The main thread's sampled time (samples × interval), in microseconds: what compile time is set against. */
  mainMicros: number;
}

/** A detector is a pure function of its input. */
export type Detector = (input: DetectorInput) => Finding[];
