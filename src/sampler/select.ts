import type { SamplerChoice } from '../config/options';
import { Codes } from '../errors';
import type { Logger } from '../log';
import { createInspectorSampler } from './inspector-sampler';
import { createNativeSampler } from './native-sampler';
import type { Sampler } from './sampler';

/**
 * Picks the backend: native first (lower overhead, no inspector session in the app), the
 * inspector when the addon is missing. Returns null, after one warning, when neither works.
 */
export function selectSampler(choice: SamplerChoice, intervalMicros: number, log: Logger): Sampler | null {
  if (choice !== 'inspector') {
    try {
      return createNativeSampler(intervalMicros);
    } catch (error) {
      const why = firstLine(error);
      log.warn(
        Codes.nativeSamplerUnavailable,
        `${choice === 'native' ? 'PREHEAT_SAMPLER=native, but the' : 'the'} native sampler (v8-profiler-next) ` +
          `could not be loaded (${why}); using the node:inspector sampler`,
      );
    }
  }
  try {
    return createInspectorSampler(intervalMicros);
  } catch (error) {
    log.warn(Codes.noSampler, `no CPU sampler could be started (${firstLine(error)}); recording nothing`);
    return null;
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 200);
}
