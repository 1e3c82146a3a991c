import type { DeoptSeen } from '../warmup/deopt-watch';
import type { KeyLatency } from '../warmup/latency-policy';

/**
 * Where the warm-up stands. `/status` serves this object as JSON.
 * - `waiting-for-server`: the app has not listened yet; `/ready` is 503 whatever the mode.
 * - `indexing`: the heap scan that finds the hot functions (one atomic walk of the heap).
 * - `replaying`, `optimizing`: the warm-up proper.
 * - `ready`: warm, or nothing to warm.
 * - `deadline`: time ran out; ready or not as PREHEAT_ON_DEADLINE says.
 * - `stopped`: the warm-up could not go on (an error, natives refused, the app closed its server);
 *   decided like the deadline, at once: a failure never pins `/ready` at 503.
 */
export type Phase = 'waiting-for-server' | 'indexing' | 'replaying' | 'optimizing' | 'ready' | 'deadline' | 'stopped';

export interface Status {
  phase: Phase;
  ready: boolean;
  /** Hot functions in the profile. */
  hot: number;
  /** Hot functions verified on an optimizing tier (Maglev or TurboFan). */
  optimized: number;
  /** Hot functions whose source changed since the recording; skipped. */
  stale: number;
  /** Hot functions left to V8's own tier-up: real traffic deoptimized them after an earlier warm-up. */
  unforced: number;
  /** Replayed requests answered. */
  replayed: number;
  /** Replayed requests that failed (5xx, reset, timeout). */
  errors: number;
  /** Recorded requests the replay rules refused (method, path, body size). */
  skipped: number;
  /** What the heap scan for the hot functions cost, in milliseconds; null until it ran. */
  scanMs: number | null;
  /** Milliseconds from the agent's start to the app's listen; null until it listens. */
  listenedAfterMs: number | null;
  /**
   * How readiness is judged: `latency` (the requests that carry most of the traffic run close to
   * their recorded steady latency) or `count` (a profile without latencies: a fixed number of replays).
   */
  rule: 'latency' | 'count';
  /** Per judged request, recorded vs current server-side latency (empty under the `count` rule). */
  latency: KeyLatency[];
  /** True while hot functions are watched for deoptimization after ready (PREHEAT_WATCH_MS). */
  watching: boolean;
  /** Hot functions real traffic deoptimized after ready, most often first; the next recording marks them. */
  deoptimized: DeoptSeen[];
  /** Where the replay client runs: `worker` (a thread of its own), `main` (the app's thread); null before it ran. */
  replayThread: 'worker' | 'main' | null;
  elapsedMs: number;
  /** Why the phase is what it is, in a sentence (a deadline, a missing profile…). */
  reason: string;
}

type Counters = Pick<Status, 'hot' | 'optimized' | 'stale' | 'unforced' | 'replayed' | 'errors' | 'skipped'>;

/** The one mutable warm-up state of the agent; readiness is a function of it. */
export class WarmupState {
  private readonly started = Date.now();
  private phase: Phase = 'waiting-for-server';
  private reason = 'waiting for the app to listen';
  private readonly counters: Counters = { hot: 0, optimized: 0, stale: 0, unforced: 0, replayed: 0, errors: 0, skipped: 0 };
  private scanMs: number | null = null;
  private listenedAt: number | null = null;
  private rule: Status['rule'] = 'count';
  private latency: KeyLatency[] = [];
  private replayThread: Status['replayThread'] = null;
  private watching = false;
  private deoptimized: DeoptSeen[] = [];
  private readonly waiters: ((ready: boolean) => void)[] = [];

  constructor(private readonly deadlineIsReady: boolean) {}

  get ready(): boolean {
    return this.phase === 'ready' || ((this.phase === 'deadline' || this.phase === 'stopped') && this.deadlineIsReady);
  }

  get settled(): boolean {
    return this.phase === 'ready' || this.phase === 'deadline' || this.phase === 'stopped';
  }

  /** True once the app's server listens: before that `/ready` never says 200 (but a limit may decide). */
  get listened(): boolean {
    return this.listenedAt !== null;
  }

  set(phase: Phase, reason: string): void {
    if (this.settled) return;
    this.phase = phase;
    this.reason = reason;
    if (this.settled) for (const w of this.waiters.splice(0)) w(this.ready);
  }

  /** Ends the warm-up early with the deadline's decision, saying what went wrong and what follows. */
  stop(why: string): void {
    this.set('stopped', `${why}; ${this.decision()}`);
  }

  /** Ends the warm-up at a time limit with the deadline's decision. */
  expire(why: string): void {
    this.set('deadline', `${why}; ${this.decision()}`);
  }

  markListened(): void {
    this.listenedAt ??= Date.now();
  }

  setLatency(rule: Status['rule'], table: KeyLatency[]): void {
    this.rule = rule;
    this.latency = table;
  }

  setReplayThread(thread: 'worker' | 'main'): void {
    this.replayThread = thread;
  }

  /** After ready, and unlike the rest of the state, this keeps changing while the watch runs. */
  setWatch(watching: boolean, deoptimized: DeoptSeen[] = this.deoptimized): void {
    this.watching = watching;
    this.deoptimized = deoptimized;
  }

  setScanMs(ms: number): void {
    this.scanMs = ms;
  }

  count(key: keyof Counters, by = 1): void {
    this.counters[key] += by;
  }

  setCount(key: keyof Counters, value: number): void {
    this.counters[key] = value;
  }

  /** Resolves once warm-up has ended: true when the instance reports ready. */
  whenSettled(): Promise<boolean> {
    return this.settled ? Promise.resolve(this.ready) : new Promise((resolve) => this.waiters.push(resolve));
  }

  status(): Status {
    return {
      phase: this.phase,
      ready: this.ready,
      ...this.counters,
      scanMs: this.scanMs,
      listenedAfterMs: this.listenedAt === null ? null : this.listenedAt - this.started,
      rule: this.rule,
      latency: this.latency,
      replayThread: this.replayThread,
      watching: this.watching,
      deoptimized: this.deoptimized,
      elapsedMs: Date.now() - this.started,
      reason: this.reason,
    };
  }

  private decision(): string {
    return this.deadlineIsReady ? 'reporting ready anyway (PREHEAT_ON_DEADLINE=ready)' : 'staying not ready (PREHEAT_ON_DEADLINE=fail)';
  }
}
