import type { CpuProfile } from '../profile/cpuprofile';

export type SamplerKind = 'native' | 'inspector';

/** A CPU sampler backend. All calls are synchronous so that the exit path can use them. */
export interface Sampler {
  readonly kind: SamplerKind;
  /** Starts a sampling window. */
  start(): void;
  /** Ends the window and returns its samples; null when no window was running. */
  stop(): CpuProfile | null;
  /**
   * Starts the next profile while the current one goes on (titled.ts): called some sampling
   * intervals before `rotate()`, it lets V8 file the samples it still has queued, so none is lost.
   */
  beginRotation?(): void;
  /**
   * Returns the samples since the last start or rotation and goes on sampling into a new profile
   * without stopping V8's profiler, which keeps its sampling thread and its code map: under a
   * millisecond, where stopping and starting costs the main thread a walk of the heap at every
   * start (about 90 ms on the docs-shop fixture, docs/overhead.md). Null when not running.
   */
  rotate(): CpuProfile | null;
  /** Releases the backend; the sampler is unusable afterwards. */
  dispose(): void;
}
