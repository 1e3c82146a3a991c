import { emptyModel, frameKey, type Frame, type StackModel } from './stack-model';

/** Builds a stack model one stack at a time, for inputs that list samples as stacks (pprof, folded, perf). */
export class ModelBuilder {
  private readonly model: StackModel = emptyModel();
  private readonly frames = new Map<string, number>([[frameKey(this.model.frames[0]!), 0]]);
  /** Children by `parent:frame`, so adding a stack costs its depth, not its depth × fan-out. */
  private readonly children = new Map<string, number>();

  frame(f: Frame): number {
    const key = frameKey(f);
    let i = this.frames.get(key);
    if (i === undefined) {
      i = this.model.frames.push(f) - 1;
      this.frames.set(key, i);
    }
    return i;
  }

  /** Adds `count` samples of the stack `frames` (root first); `leafLine` is where in the leaf they fell. */
  add(frames: number[], count: number, leafLine = 0): void {
    if (count <= 0) return;
    let at = 0;
    for (const f of frames) {
      const key = `${at}:${f}`;
      let next = this.children.get(key);
      if (next === undefined) {
        next = this.model.nodes.push({ frame: f, parent: at, children: [], self: 0 }) - 1;
        this.model.nodes[at]!.children.push(next);
        this.children.set(key, next);
      }
      at = next;
    }
    const leaf = this.model.nodes[at]!;
    leaf.self += count;
    if (leafLine > 0 && at !== 0) {
      leaf.lines ??= {};
      leaf.lines[leafLine] = (leaf.lines[leafLine] ?? 0) + count;
    }
    this.model.totalSamples += count;
  }

  /** Samples added so far. */
  get totalSamples(): number {
    return this.model.totalSamples;
  }

  build(durationMicros: number): StackModel {
    this.model.durationMicros = durationMicros;
    return this.model;
  }
}
