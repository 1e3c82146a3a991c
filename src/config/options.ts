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
  /** Time between two samples, in microseconds. Default 1000 (1 ms). */
  sampleIntervalMicros: number;
  /** Length of one sampling window, in milliseconds. Default 10000. */
  windowMs: number;
  /** One window starts every `periodMs` milliseconds (duty cycle windowMs/periodMs). Default 120000. */
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
  // 1 ms sampling during a 10 s window of every 120 s: the profiler runs 1/12 of the time. Inside
  // a window the agent cost 6-8% CPU per request on the docs-shop fixture; the goal for the whole
  // run is 1% or less. scripts/bench/overhead.js measures both (BENCHMARKS.md).
  sampleIntervalMicros: 1000,
  windowMs: 10_000,
  periodMs: 120_000,
  maxFunctions: 500,
  maxCpuprofiles: 10,
  decay: 0.5,
  logLevel: 'warn',
  replayMethods: ['GET', 'HEAD'],
  maxRequests: 200,
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
  replayThread: 'main',
});

/** The environment variable that carries an option: `windowMs` → `PREHEAT_WINDOW_MS`. */
export function envName(key: keyof Options): string {
  return 'PREHEAT_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}
