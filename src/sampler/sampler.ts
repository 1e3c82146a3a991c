import type { CpuProfile } from '../profile/cpuprofile';

export type SamplerKind = 'native' | 'inspector';

/** A CPU sampler backend. All calls are synchronous so that the exit path can use them. */
export interface Sampler {
  readonly kind: SamplerKind;
  /** Starts a sampling window. */
  start(): void;
  /** Ends the window and returns its samples; null when no window was running. */
  stop(): CpuProfile | null;
  /** Releases the backend; the sampler is unusable afterwards. */
  dispose(): void;
}
