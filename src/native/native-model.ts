import { childFor, emptyModel, frameKey, type Frame, type StackModel } from '../profile/stack-model';
import { classifyNative, segmentCategory, type NativeCategory } from './categories';
import { isUnoptimizedCode, type NativeFrame, type NativeSample } from './native-sample';

/** Where a JavaScript function's samples went: its own code ('js') or a native cost category. */
export type CostBreakdown = Partial<Record<NativeCategory | 'js', number>>;

export interface FunctionNativeCost {
  name: string;
  url: string;
  /** 1-based position of the function, as in the stack model. */
  line: number;
  column: number;
  /** Main-thread samples whose nearest JavaScript frame is this function. */
  samples: number;
  /**
   * Of those, the samples where the function ran unoptimized code: the interpreter or baseline
   * code, over the whole run (its warm-up included: V8 may never install optimized code for a
   * function whose every compilation it throws away, so "after the first optimization" would
   * miss the worst loops). The tick log names every tier; perf sees baseline code only
   * (interpreted frames are one anonymous frame there). Samples in the deoptimizer are not
   * counted here (they are `categories.deopt`), so the two add up.
   */
  unoptimized: number;
  categories: CostBreakdown;
}

export interface NativeProfile {
  /** Every sample as a stack, native frames included and tagged with their category. */
  model: StackModel;
  /**
   * The same main-thread samples with JavaScript frames only, each charged to its nearest
   * JavaScript frame and, where the capture says (tick logs), to its line: what a CPU profile
   * would hold, for the line-level detectors.
   */
  jsModel: StackModel;
  /** Per JavaScript function, biggest first. */
  functions: FunctionNativeCost[];
  /** Main-thread samples by category ('js' for JavaScript's own code). */
  totals: CostBreakdown;
  mainSamples: number;
  /** Time between two samples, in microseconds. */
  intervalMicros: number;
  /** Samples from other threads (GC helpers, compiler threads, the libuv pool). */
  otherSamples: number;
}

const PROGRAM: Frame = { name: '(program)', url: '', line: 0, column: 0, kind: 'program' };
const GC: Frame = { name: '(garbage collector)', url: '', line: 0, column: 0, kind: 'gc' };
const OTHER_THREADS: Frame = { name: '(other threads)', url: '', line: 0, column: 0, kind: 'native', category: 'runtime' };

/**
 * Folds native samples into the shared stack model and attributes each sample's native cost to
 * its nearest JavaScript frame: the function whose line the in-process sampler would have charged.
 */
export class NativeProfileBuilder {
  private readonly model = emptyModel();
  private readonly frameIndex = new Map<string, number>([[frameKey(this.model.frames[0]!), 0]]);
  private readonly js = emptyModel();
  private readonly jsFrameIndex = new Map<string, number>([[frameKey(this.js.frames[0]!), 0]]);
  private readonly functions = new Map<number, FunctionNativeCost>();
  private readonly totals: CostBreakdown = {};
  private mainSamples = 0;
  private otherSamples = 0;
  private readonly categoryCache = new Map<string, NativeCategory>();

  constructor(private readonly intervalMicros: number) {}

  add(sample: NativeSample): void {
    const { frames } = sample;
    if (frames.length === 0) return;
    const nearestJs = frames.findIndex((f) => f.kind === 'js');
    const segment = nearestJs < 0 ? frames : frames.slice(0, nearestJs);
    const cost: NativeCategory | 'js' = segment.length === 0 ? 'js' : segmentCategory(segment.map((f) => this.categoryOf(f)));

    if (sample.mainThread) {
      this.mainSamples++;
      this.totals[cost] = (this.totals[cost] ?? 0) + 1;
      if (nearestJs >= 0) {
        const fi = this.frameFor(frames[nearestJs]!);
        let fn = this.functions.get(fi);
        if (!fn) {
          const f = this.model.frames[fi]!;
          fn = { name: f.name, url: f.url, line: f.line, column: f.column, samples: 0, unoptimized: 0, categories: {} };
          this.functions.set(fi, fn);
        }
        fn.samples++;
        if (cost !== 'deopt' && isUnoptimizedCode(frames[nearestJs]!.tier)) fn.unoptimized++;
        fn.categories[cost] = (fn.categories[cost] ?? 0) + 1;
      }
      this.addJs(frames, nearestJs, cost);
    } else {
      this.otherSamples++;
    }

    let node = sample.mainThread ? 0 : this.child(0, this.internFrame(OTHER_THREADS));
    for (let i = frames.length - 1; i >= 0; i--) node = this.child(node, this.frameFor(frames[i]!));
    this.model.nodes[node]!.self++;
    this.model.totalSamples++;
  }

  result(): NativeProfile {
    this.model.durationMicros = this.model.totalSamples * this.intervalMicros;
    this.js.durationMicros = this.js.totalSamples * this.intervalMicros;
    return {
      model: this.model,
      jsModel: this.js,
      functions: [...this.functions.values()].sort((a, b) => b.samples - a.samples),
      totals: this.totals,
      mainSamples: this.mainSamples,
      intervalMicros: this.intervalMicros,
      otherSamples: this.otherSamples,
    };
  }

  private addJs(frames: NativeFrame[], nearestJs: number, cost: NativeCategory | 'js'): void {
    let node = 0;
    if (nearestJs < 0) {
      node = childFor(this.js, 0, intern(this.js, this.jsFrameIndex, cost === 'gc' ? GC : PROGRAM));
    } else {
      for (let i = frames.length - 1; i >= nearestJs; i--) {
        const f = frames[i]!;
        if (f.kind === 'js') node = childFor(this.js, node, intern(this.js, this.jsFrameIndex, { name: f.name, url: f.url, line: f.line, column: f.column, kind: 'js' }));
      }
      const line = frames[nearestJs]!.sourceLine;
      if (line) {
        const n = this.js.nodes[node]!;
        n.lines ??= {};
        n.lines[line] = (n.lines[line] ?? 0) + 1;
      }
    }
    this.js.nodes[node]!.self++;
    this.js.totalSamples++;
  }

  private categoryOf(f: NativeFrame): NativeCategory {
    const key = `${f.name}\u0000${f.url}`;
    let c = this.categoryCache.get(key);
    if (c === undefined) {
      c = classifyNative(f.name, f.url);
      this.categoryCache.set(key, c);
    }
    return c;
  }

  private frameFor(f: NativeFrame): number {
    if (f.kind === 'js') return this.internFrame({ name: f.name, url: f.url, line: f.line, column: f.column, kind: 'js' });
    // Native frames keep the stack model's convention (url ''), named by symbol.
    return this.internFrame({ name: f.name, url: '', line: 0, column: 0, kind: 'native', category: this.categoryOf(f) });
  }

  private internFrame(frame: Frame): number {
    return intern(this.model, this.frameIndex, frame);
  }

  private child(parent: number, frame: number): number {
    return childFor(this.model, parent, frame);
  }
}

function intern(model: StackModel, index: Map<string, number>, frame: Frame): number {
  const key = frameKey(frame);
  let at = index.get(key);
  if (at === undefined) {
    at = model.frames.push(frame) - 1;
    index.set(key, at);
  }
  return at;
}
