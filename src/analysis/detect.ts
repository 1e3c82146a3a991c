import type { DetectorInput } from './detector';
import { deoptLoop } from './detectors/deopt-loop';
import { exceptionControlFlow } from './detectors/exception-control-flow';
import { gcPressure } from './detectors/gc-pressure';
import { stringInterning } from './detectors/string-interning';
import { syncIo } from './detectors/sync-io';
import type { Finding } from './finding';

export interface DetectOptions {
  /** The smallest share of busy samples a finding may have. Default 0.02 (2%). */
  minShare?: number;
}

/** Every detector over one input; one finding per kind, function and line, biggest share first. */
export function detectFindings(input: DetectorInput, options: DetectOptions = {}): Finding[] {
  const minShare = options.minShare ?? 0.02;
  const all = [exceptionControlFlow(minShare), stringInterning(minShare), gcPressure, syncIo(minShare), deoptLoop(minShare)].flatMap((d) => d(input));
  // A line that throws and is caught is that finding; its hot JSON.parse is not also string-interning.
  const throwing = new Set(all.filter((f) => f.kind === 'exception-control-flow').map((f) => `${f.file}\u0000${f.line}`));
  const seen = new Set<string>();
  return all
    .sort((a, b) => b.share - a.share)
    .filter((f) => {
      if (f.kind === 'string-interning' && throwing.has(`${f.file}\u0000${f.line}`)) return false;
      const key = `${f.kind}\u0000${f.function}\u0000${f.file}\u0000${f.line}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
