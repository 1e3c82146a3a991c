import type { LogLevel } from '../log';

export type Mode = 'off' | 'record' | 'warm' | 'auto';
export type SamplerChoice = 'auto' | 'native' | 'inspector';

/**
 * Everything the agent can be told. Each option has a `PREHEAT_*` environment variable of the same
 * name in upper snake case (`sampleIntervalMicros` ⇔ `PREHEAT_SAMPLE_INTERVAL_MICROS`).
 */
export interface Options {
  /** What the agent does. Default `auto`. */
  mode: Mode;
  /** Where profile.json and the *.cpuprofile files live. Relative to the working directory. Default `.preheat`. */
  dir: string;
  /** The app root: recorded file names are relative to it. Default: the working directory. */
  root: string;
  /** Which sampler backend: `native` (v8-profiler-next), `inspector` (node:inspector), `auto`. Default `auto`. */
  sampler: SamplerChoice;
  /** Time between two samples, in microseconds. Default 1000 (1 ms). */
  sampleIntervalMicros: number;
  /** Length of one sampling window, in milliseconds. Default 10000. */
  windowMs: number;
  /** One window starts every `periodMs` milliseconds (duty cycle windowMs/periodMs). Default 60000. */
  periodMs: number;
  /** How many hot functions profile.json keeps. Default 500. */
  maxFunctions: number;
  /** How many *.cpuprofile files the directory keeps; the oldest are deleted. Default 10. */
  maxCpuprofiles: number;
  /** Weight of the previous generation's counts when a new recording is merged in, 0–1. Default 0.5. */
  decay: number;
  /** `silent`, `warn`, `info` or `debug`. Default `warn`. */
  logLevel: LogLevel;
}

export const defaults: Readonly<Options> = Object.freeze({
  mode: 'auto',
  dir: '.preheat',
  root: '',
  sampler: 'auto',
  // 1 ms sampling during a 10 s window of every 60 s: the profiler runs 1/6 of the time.
  // scripts/bench/ measures what this costs (issue #5); the goal is 1% or less.
  sampleIntervalMicros: 1000,
  windowMs: 10_000,
  periodMs: 60_000,
  maxFunctions: 500,
  maxCpuprofiles: 10,
  decay: 0.5,
  logLevel: 'warn',
});

/** The environment variable that carries an option: `windowMs` → `PREHEAT_WINDOW_MS`. */
export function envName(key: keyof Options): string {
  return 'PREHEAT_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}
