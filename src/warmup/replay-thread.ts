import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { RecordedRequest } from '../profile/schema';
import type { Marker } from './crash-marker';
import { decodeResult, replay, type ReplayResult, type ReplayTarget } from './replay';
import { SuspectLog } from './suspects';
import { IN_FLIGHT, STOP, type FromWorker, type ReplayWorkerData, type ToWorker } from './replay-worker';

/** Where the replay client runs: a worker thread of its own, or the app's main thread. */
export type ReplayThread = 'worker' | 'main';

/** The compiled worker entry, next to this file. */
export const REPLAY_WORKER_FILE = path.join(__dirname, 'replay-worker.js');

/**
 * How long a round waits for the worker to start before replaying on the main thread instead. It
 * is started before the heap scan, and normally ready when the scan ends.
 */
const START_LIMIT_MS = 3000;
/** How often a round checks its stop condition (the app closed its server, the deadline) while the worker sends. */
const POLL_MS = 10;
/**
 * At close, the worker stops starting requests and is terminated once those in flight have ended
 * (its keep-alive sockets then close cleanly, as the main thread's replay leaves them), or after this.
 */
const DRAIN_MS = 500;
/** The worker's heap, capped: it holds the schedule and the HTTP client's state, a few MB. */
const WORKER_OLD_SPACE_MB = 64;

export interface ReplayerOptions {
  schedule: RecordedRequest[];
  target: ReplayTarget;
  concurrency: number;
  timeoutMs: number;
  /** Read at every round: a cluster worker adopts its primary's value after it started. */
  marker: { readonly header: string; readonly value: string };
  newConnectionEach: boolean;
  onResult: (r: ReplayResult) => void;
  /** The worker could not be used (it did not start, or died): the replay goes on on the main thread. */
  onFallback: (why: string) => void;
  /** The worker is ready to send, this many ms after it was created, by its own clock (a debug line). */
  onStarted?: (ms: number) => void;
}

/** The warm-up's replay, round by round, wherever it runs. */
export interface Replayer {
  /** Where it replays now: `main` after a fallback. */
  readonly thread: ReplayThread;
  /**
   * Replays until `size` more requests have ended, `until` (performance.now()) has passed, or `stop()`
   * says so. On the main thread the replay pauses between rounds; a worker goes on sending.
   */
  round(size: number, until: number, stop: () => boolean): Promise<void>;
  /** Replayed requests in flight now, on whichever thread (the crash marker reads this at exit). */
  inFlight(): number;
  /**
   * From now on, before a request is sent, the marker names it among the requests in flight
   * (suspects.ts), on whichever thread sends it. Called once the marker is placed, before the first round.
   */
  writeAheadTo(marker: Marker): void;
  /** Ends the replay: the worker is terminated. Safe to call more than once. */
  close(): void;
}

/** A replayer on the chosen thread; `workerFile` is for tests of the fallback. */
export function createReplayer(thread: ReplayThread, options: ReplayerOptions, workerFile = REPLAY_WORKER_FILE): Replayer {
  return thread === 'worker' ? new WorkerReplayer(options, workerFile) : new MainReplayer(options);
}

/** The replay on the app's own thread, as before: each round sends its requests and waits for them. */
class MainReplayer implements Replayer {
  readonly thread = 'main';
  private inflight = 0;
  private suspects: SuspectLog | null = null;

  constructor(private readonly options: ReplayerOptions) {}

  async round(size: number, until: number, stop: () => boolean): Promise<void> {
    let started = 0;
    const o = this.options;
    await replay(o.schedule, o.target, {
      concurrency: o.concurrency,
      timeoutMs: o.timeoutMs,
      marker: o.marker,
      shouldStop: () => stop() || started++ >= size || performance.now() > until,
      onResult: o.onResult,
      inFlight: { add: (n) => (this.inflight += n) },
      suspects: this.suspects ?? undefined,
      newConnectionEach: o.newConnectionEach,
    });
    // Nothing is in flight between rounds: a death in the optimizer's step is no request's doing.
    this.suspects?.settle();
  }

  inFlight(): number {
    return this.inflight;
  }

  writeAheadTo(marker: Marker): void {
    this.suspects = new SuspectLog((keys) => marker.writeSuspects(keys));
  }

  close(): void {}
}

/**
 * The replay client on a worker thread, so that the app's main thread only serves the requests, as
 * it would serve production traffic, and the client's own work (building requests, parsing
 * responses) runs on another core. The worker is unref'd (it never keeps the process alive) and
 * terminated at close; it starts without the app's preloads and environment (`execArgv: []`,
 * `env: {}`: NODE_OPTIONS' `--require` would load them into it) and with its stdout and stderr
 * piped here and dropped. Anything that goes wrong with it (it cannot be created, fails to
 * load, dies, does not start in time) is one `onFallback` and the main thread replays instead.
 */
class WorkerReplayer implements Replayer {
  private worker: Worker | null = null;
  private fallback: MainReplayer | null = null;
  /** `[STOP, IN_FLIGHT]`, shared with the worker; null when there is no worker to share them with. */
  private flags: Int32Array | null = null;
  private ready = false;
  private going = false;
  private closed = false;
  /** Results received since the worker started. */
  private ended = 0;
  private sentMarker: string;
  /** Called when something a waiting round looks at changed (results, ready, failure). */
  private wake: (() => void) | null = null;
  private crashMarker: Marker | null = null;
  /** Resolves once a stopped worker's thread has ended: until then it may still write the crash marker. */
  private stopped: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: ReplayerOptions,
    file: string,
  ) {
    this.sentMarker = options.marker.value;
    try {
      // Inside the fallback: a process without SharedArrayBuffer (a hardening preload deletes it,
      // V8's --no-harmony-sharedarraybuffer on Node 20) cannot share the flags, and replays on the
      // main thread instead of failing the warm-up.
      const flags = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
      const data: ReplayWorkerData = {
        kind: 'preheat-replay',
        schedule: options.schedule,
        target: options.target,
        concurrency: options.concurrency,
        timeoutMs: options.timeoutMs,
        marker: { header: options.marker.header, value: options.marker.value },
        newConnectionEach: options.newConnectionEach,
        flags,
        createdAt: Date.now(),
      };
      const worker = new Worker(file, {
        workerData: data,
        execArgv: [],
        env: {},
        stdout: true,
        stderr: true,
        resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_SPACE_MB },
      });
      this.flags = flags;
      this.worker = worker;
      worker.on('error', (error) => this.fail(`failed (${message(error)})`));
      worker.on('exit', (code) => this.fail(`exited (code ${code})`));
      worker.on('messageerror', (error) => this.fail(`sent a message that could not be read (${message(error)})`));
      worker.on('message', (m: FromWorker) => this.receive(m));
      worker.stdout.resume();
      worker.stderr.resume();
      worker.unref();
    } catch (error) {
      // Refused outright: the permission model without --allow-worker, no threads left, no SharedArrayBuffer.
      this.fail(`could not be created (${message(error)})`);
    }
  }

  get thread(): ReplayThread {
    return this.fallback ? 'main' : 'worker';
  }

  async round(size: number, until: number, stop: () => boolean): Promise<void> {
    if (!this.fallback && !this.ready) {
      const limit = performance.now() + START_LIMIT_MS;
      await this.waitFor(() => this.ready || this.fallback !== null || stop() || performance.now() > limit);
      if (!this.ready && !this.fallback && !stop()) this.fail(`did not start within ${START_LIMIT_MS} ms`);
    }
    if (this.fallback) {
      // One writer of the crash marker at a time: the main thread's first request waits for the worker's end.
      await this.stopped;
      return this.fallback.round(size, until, stop);
    }
    if (this.closed || stop()) return;
    if (this.options.marker.value !== this.sentMarker) {
      this.sentMarker = this.options.marker.value;
      this.post({ t: 'marker', value: this.sentMarker });
    }
    if (!this.going) {
      this.going = true;
      this.post({ t: 'go' });
    }
    const target = this.ended + size;
    await this.waitFor(() => this.ended >= target || performance.now() > until || stop() || this.fallback !== null || this.closed);
  }

  inFlight(): number {
    return (this.fallback?.inFlight() ?? 0) + (this.worker ? this.flag(IN_FLIGHT) : 0);
  }

  writeAheadTo(marker: Marker): void {
    this.crashMarker = marker;
    if (this.fallback) this.fallback.writeAheadTo(marker);
    // Posted before 'go': the worker handles messages in order, so it writes before its first request.
    else this.post({ t: 'suspects', file: marker.file, info: marker.info });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    if (!this.worker || !this.going) return this.stopWorker();
    this.setFlag(STOP, 1);
    const limit = performance.now() + DRAIN_MS;
    const timer = setInterval(() => {
      if (this.worker && this.flag(IN_FLIGHT) > 0 && performance.now() < limit) return;
      clearInterval(timer);
      this.stopWorker();
    }, POLL_MS);
    timer.unref();
  }

  private receive(m: FromWorker): void {
    try {
      if (m.t === 'ready') {
        this.ready = true;
        this.options.onStarted?.(m.ms);
      }
      else if (m.t === 'results') {
        for (const n of m.r) this.options.onResult(decodeResult(n));
        this.ended += m.r.length;
      }
      this.wake?.();
    } catch {
      // A count lost is a round judged a little late; the app never notices.
    }
  }

  private post(m: ToWorker): void {
    try {
      this.worker?.postMessage(m);
    } catch (error) {
      this.fail(`could not be reached (${message(error)})`);
    }
  }

  /** The worker is gone or unusable: stop it, and replay on the main thread from the next round. */
  private fail(why: string): void {
    if (this.closed || this.fallback) return;
    this.stopWorker();
    this.fallback = new MainReplayer(this.options);
    if (this.crashMarker) this.fallback.writeAheadTo(this.crashMarker);
    try {
      this.options.onFallback(why);
    } catch {
      // The warning is the caller's; it cannot fail the replay.
    }
    this.wake?.();
  }

  private flag(index: number): number {
    return this.flags ? Atomics.load(this.flags, index) : 0;
  }

  private setFlag(index: number, value: number): void {
    if (this.flags) Atomics.store(this.flags, index, value);
  }

  private stopWorker(): void {
    this.setFlag(STOP, 1);
    const worker = this.worker;
    this.worker = null;
    // Its requests end with it: nothing is in flight on a terminated thread.
    this.setFlag(IN_FLIGHT, 0);
    if (!worker) return;
    worker.removeAllListeners('message');
    // 'error' stays handled: an error event without a listener would be thrown into the app.
    worker.removeAllListeners('exit');
    worker.on('exit', () => {});
    this.stopped = worker.terminate().catch(() => {});
  }

  /** Resolves once `done()` holds, checked at each wake and every POLL_MS (unref'd: never keeps the process alive). */
  private waitFor(done: () => boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const check = () => {
        let finished = true;
        try {
          finished = done();
        } catch {
          // A stop condition that throws ends the wait.
        }
        if (!finished) return;
        if (timer) clearInterval(timer);
        if (this.wake === check) this.wake = null;
        resolve();
      };
      this.wake = check;
      timer = setInterval(check, POLL_MS);
      timer.unref();
      check();
    });
  }
}

function message(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!;
}
