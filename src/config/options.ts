import type { LogLevel } from '../log';

export type Mode = 'off' | 'record' | 'warm' | 'auto';
export type DeadlineAction = 'ready' | 'fail';
export type SamplerChoice = 'auto' | 'native' | 'inspector';

/**
 * Everything the agent can be told. Each option has a `PREHEAT_*` environment variable of the same
 * name in upper snake case (`sampleIntervalMicros` ⇔ `PREHEAT_SAMPLE_INTERVAL_MICROS`).
 */
export interface Options {
  /** What the agent does. Default `auto`. */
  mode: Mode;
  /** Where profile.json and the *.cpuprofile files live (docs/profile-files.md). Relative to the app root. Default `.preheat`. */
  dir: string;
  /**
   * Where the profile to warm from is read at boot, when it is not `dir`: a profile baked into the
   * image stays visible when `dir` is a mounted volume that recordings go to. Relative to the app
   * root. Default: `dir`.
   */
  profileDir: string;
  /**
   * The app root: recorded file names are relative to it. Relative to the working directory.
   * Default: the package of the script node runs (the nearest package.json above it), else the
   * working directory (src/profile/app-root.ts).
   */
  root: string;
  /** Which sampler backend: `native` (v8-profiler-next), `inspector` (node:inspector), `auto`. Default `auto`. */
  sampler: SamplerChoice;
  /** Time between two samples, in microseconds. Default 40000 (25 samples a second). */
  sampleIntervalMicros: number;
  /**
   * Length of one sampling window, in milliseconds: each window ends in a .cpuprofile and a write
   * of the profile. Default 60000.
   */
  windowMs: number;
  /**
   * One window starts every `periodMs` milliseconds (duty cycle windowMs/periodMs). When it equals
   * `windowMs` (the default) the sampler never stops and each window rotates its profile. Default 60000.
   */
  periodMs: number;
  /** How many hot functions profile.json keeps. Default 500. */
  maxFunctions: number;
  /** How many *.cpuprofile files the directory keeps; the oldest are deleted. Default 10. */
  maxCpuprofiles: number;
  /** Weight of the previous generation's counts when a new recording is merged in, 0–1. Default 0.5. */
  decay: number;
  /** `silent`, `warn`, `info` or `debug`. Default `warn`. */
  logLevel: LogLevel;
  /** HTTP methods whose requests are recorded and replayed. Default `GET,HEAD`. */
  replayMethods: string[];
  /** How many distinct requests profile.json keeps, the most frequent first. Default 200. */
  maxRequests: number;
  /**
   * Requests recorded per second at most, in bursts of up to as many: a quiet server has every
   * request recorded, a busy one a sample spread over time. 0: every request. Default 5.
   */
  capturePerSecond: number;
  /** Largest request body recorded, in bytes; bigger bodies are not recorded. Default 16384. */
  maxBodyBytes: number;
  /** Port of the readiness server on `host`; 0 picks a free one, unset runs none. Default unset. */
  port: number | null;
  /** Address of the readiness server. Default `127.0.0.1`. */
  host: string;
  /** A path of the app's own (such as `/healthz`) that answers 503 until warm. Default unset. */
  gatePath: string | null;
  /** Time from the app's listen after which readiness is decided anyway, in milliseconds. Default 10000. */
  deadlineMs: number;
  /** Time from the agent's start after which readiness is decided for an app that has not listened, in milliseconds. Default 120000. */
  startLimitMs: number;
  /** At the deadline: `ready` (answer 200 anyway) or `fail` (stay 503). Default `ready`. */
  onDeadline: DeadlineAction;
  /**
   * Recorded latencies count from this long after the process started, in milliseconds: before
   * that the app is still warming on its own. Default 120000.
   */
  steadyAfterMs: number;
  /**
   * Warm mode is ready when the requests that carry most of the traffic run within this ratio of
   * their recorded steady latency (for a few rounds in a row). Default 1.2.
   */
  readyLatencyRatio: number;
  /**
   * Path globs (`*` within a segment, `**` across segments): only recorded requests whose path
   * matches one are replayed. Default unset: every recorded request.
   */
  replayPaths: string[] | null;
  /** Path globs whose recorded requests are never replayed (checkout, webhooks…). Default none. */
  skipPaths: string[];
  /**
   * Replay requests in flight at once. Default unset: one per CPU the process may use (its cgroup
   * quota, not the host's cores), from 2 to 8.
   */
  replayConcurrency: number | null;
  /**
   * `lowered`: V8's tier-up thresholds are lowered to a tenth while the warm-up replays and
   * restored when it ends (src/warmup/tier-flags.ts); `default` leaves them. Default `default`.
   */
  warmTiering: 'default' | 'lowered';
  /**
   * After ready, how long the hot functions are watched for deoptimization by real traffic, in
   * milliseconds (src/warmup/deopt-watch.ts); 0 turns the watch off. Default 60000.
   */
  watchMs: number;
  /**
   * Where the warm-up's replay client runs: `main`, the app's main thread, or `worker`, a worker
   * thread of its own (the app's main thread then only serves the replayed requests, but the
   * process spends more CPU per request: docs/warmup-research.md). Default `main`.
   */
  replayThread: 'worker' | 'main';
}

export const defaults: Readonly<Options> = Object.freeze({
  mode: 'auto',
  dir: '.preheat',
  profileDir: '',
  root: '',
  sampler: 'auto',
  // 25 samples a second, all the time, the profile rotated every minute: the goal is 1% or less at
  // every moment, not only on average. Each sample costs V8 about 40-180 µs of CPU on the docs-shop
  // fixture here (docs/overhead.md): 1 kHz inside 10 s windows (the defaults before) cost 7-14% of
  // the process's CPU while a window ran, and starting the profiler for each window held the main
  // thread for about 90 ms. scripts/bench/overhead.js measures it (BENCHMARKS.md).
  sampleIntervalMicros: 40_000,
  windowMs: 60_000,
  periodMs: 60_000,
  maxFunctions: 500,
  maxCpuprofiles: 10,
  decay: 0.5,
  logLevel: 'warn',
  replayMethods: ['GET', 'HEAD'],
  maxRequests: 200,
  // Recording a request costs 40-140 µs (redaction, its key; code that runs a few times a second
  // stays unoptimized): on every request that was 5-8% of the fixtures' CPU per request, at 20 a
  // second still 0.7% of a busy docs-shop (docs/overhead.md). 5 a second is 18 000 requests an hour.
  capturePerSecond: 5,
  maxBodyBytes: 16 * 1024,
  port: null,
  host: '127.0.0.1',
  gatePath: null,
  deadlineMs: 10_000,
  startLimitMs: 120_000,
  onDeadline: 'ready',
  steadyAfterMs: 120_000,
  readyLatencyRatio: 1.2,
  replayPaths: null,
  skipPaths: [],
  replayConcurrency: null,
  warmTiering: 'default',
  watchMs: 60_000,
  replayThread: 'main',
});

/** The environment variable that carries an option: `windowMs` → `PREHEAT_WINDOW_MS`. */
export function envName(key: keyof Options): string {
  return 'PREHEAT_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}
