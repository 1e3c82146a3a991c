import type { DetectorInput } from '../detector';

export interface HotLine {
  frame: number;
  url: string;
  line: number;
  ticks: number;
  /** ticks / busy samples. */
  share: number;
}

/** Every line with self ticks in a JavaScript frame of the app (file:// URLs), hottest first. */
export function hotLines(input: DetectorInput, minShare: number): HotLine[] {
  const busy = input.totals.busy || 1;
  const out: HotLine[] = [];
  for (const s of input.stats.values()) {
    const f = input.model.frames[s.frame]!;
    if (f.kind !== 'js' || !f.url.startsWith('file://')) continue;
    for (const [line, ticks] of Object.entries(s.lines)) {
      if (ticks / busy >= minShare) out.push({ frame: s.frame, url: f.url, line: Number(line), ticks, share: ticks / busy });
    }
  }
  return out.sort((a, b) => b.ticks - a.ticks);
}

/** Frames that called `frame` somewhere in the model (its parents in the tree). */
export function callers(input: DetectorInput, frame: number): Set<number> {
  const out = new Set<number>();
  for (const n of input.model.nodes) {
    if (n.frame === frame && n.parent > 0) out.add(input.model.nodes[n.parent]!.frame);
  }
  return out;
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
