import type { Detector } from '../detector';
import { percent } from './hot-lines';

/** Past this share of busy samples in the garbage collector, allocation is worth a look. */
export const GC_THRESHOLD = 0.1;

/** The garbage collector's share of CPU above GC_THRESHOLD, with the functions that run most beside it. */
export const gcPressure: Detector = (input) => {
  const busy = input.totals.busy || 1;
  const share = input.totals.gc / busy;
  if (share < GC_THRESHOLD) return [];
  const frame = input.model.frames.findIndex((f) => f.kind === 'gc');
  const top = [...input.stats.values()]
    .filter((s) => input.model.frames[s.frame]!.kind === 'js' && input.model.frames[s.frame]!.url.startsWith('file://'))
    .sort((a, b) => b.self - a.self)
    .slice(0, 3)
    .map((s) => input.model.frames[s.frame]!.name || '(anonymous)');
  return [
    {
      kind: 'gc-pressure',
      function: '(garbage collector)',
      file: '',
      line: 0,
      share,
      evidence:
        `${percent(share)} of CPU samples are in the garbage collector (threshold ${percent(GC_THRESHOLD)})` +
        (top.length ? `; the hottest app functions are ${top.join(', ')}.` : '.'),
      advice:
        'Allocate less on hot paths: reuse objects and arrays, avoid building intermediate arrays (map/filter chains, spread, ' +
        'slice) and strings per request; a heap-sampling profile (--heap-prof) shows where the garbage comes from.',
      frame,
    },
  ];
};
