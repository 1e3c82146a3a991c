/** Where the warm-up stands. `/status` serves this object as JSON. */
export type Phase = 'waiting-for-server' | 'replaying' | 'optimizing' | 'ready' | 'deadline' | 'failed';

export interface Status {
  phase: Phase;
  ready: boolean;
  /** Hot functions in the profile. */
  hot: number;
  /** Hot functions verified on an optimizing tier (Maglev or TurboFan). */
  optimized: number;
  /** Hot functions whose source changed since the recording; skipped. */
  stale: number;
  /** Replayed requests answered. */
  replayed: number;
  /** Replayed requests that failed (5xx, reset, timeout). */
  errors: number;
  elapsedMs: number;
  /** Why the phase is what it is, in a sentence (a deadline, a missing profile…). */
  reason: string;
}

type Counters = Omit<Status, 'elapsedMs' | 'ready' | 'phase' | 'reason'>;

/** The one mutable warm-up state of the agent; readiness is a function of it. */
export class WarmupState {
  private readonly started = Date.now();
  private phase: Phase = 'waiting-for-server';
  private reason = 'waiting for the app to listen';
  private readonly counters: Counters = { hot: 0, optimized: 0, stale: 0, replayed: 0, errors: 0 };
  private readonly waiters: ((ready: boolean) => void)[] = [];

  get ready(): boolean {
    return this.phase === 'ready' || (this.phase === 'deadline' && this.deadlineIsReady);
  }

  constructor(private readonly deadlineIsReady: boolean) {}

  set(phase: Phase, reason: string): void {
    if (this.settled) return;
    this.phase = phase;
    this.reason = reason;
    if (this.settled) for (const w of this.waiters.splice(0)) w(this.ready);
  }

  count(key: keyof Counters, by = 1): void {
    this.counters[key] += by;
  }

  setCount(key: keyof Counters, value: number): void {
    this.counters[key] = value;
  }

  get settled(): boolean {
    return this.phase === 'ready' || this.phase === 'deadline' || this.phase === 'failed';
  }

  /** Resolves once warm-up has ended: true when the instance reports ready. */
  whenSettled(): Promise<boolean> {
    return this.settled ? Promise.resolve(this.ready) : new Promise((resolve) => this.waiters.push(resolve));
  }

  status(): Status {
    return { phase: this.phase, ready: this.ready, ...this.counters, elapsedMs: Date.now() - this.started, reason: this.reason };
  }
}
