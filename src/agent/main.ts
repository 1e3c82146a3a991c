import * as path from 'node:path';
import type { Server } from 'node:http';
import { isMainThread } from 'node:worker_threads';
import { startRequestCapture } from '../capture/request-capture';
import { createReplayMarker } from '../capture/replay-marker';
import type { Options } from '../config/options';
import { resolveOptions } from '../config/resolve';
import { Codes } from '../errors';
import { createLogger, type Logger } from '../log';
import type { WarmupProfile } from '../profile/schema';
import { PROFILE_FILE, readProfile } from '../profile/store';
import { WarmupState, type Status } from '../readiness/state';
import { selectSampler } from '../sampler/select';
import { preheatVersion } from '../version';
import { enableCompileCache } from '../warmup/compile-cache';
import { installExitHooks } from './exit-hooks';
import { Recorder, type RecorderStatus } from './recorder';

/**
 * Parts only warm mode needs load when it runs: a recording agent starts without them (the
 * start-up benchmark measures what the agent adds to every boot).
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const lazy = {
  readiness: () => require('../readiness/server') as typeof import('../readiness/server'),
  warmup: () => require('../warmup/warmup') as typeof import('../warmup/warmup'),
  telemetry: () => require('../telemetry/warmup-telemetry') as typeof import('../telemetry/warmup-telemetry'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** One agent per process, even with two copies of preheat loaded (the OpenTelemetry API's pattern). */
const REGISTRY = Symbol.for('preheat.agent.v0');

export interface Agent {
  readonly options: Readonly<Options>;
  /** What the recorder has done so far; null when not recording. */
  recording(): Readonly<RecorderStatus> | null;
  /** The warm-up's state (what `/status` serves). */
  status(): Status;
  /** Resolves when warm-up has ended: true when the instance reports ready. */
  ready(): Promise<boolean>;
  /** Stops sampling and writes what was recorded. The exit hooks do this on their own at exit. */
  stop(): void;
}

type Registry = { agent: Agent | null };

/**
 * The agent's single entry. Never throws: every failure is one `preheat:` line on stderr and the
 * app runs as if preheat were not there.
 */
export function startAgent(input: Partial<Record<keyof Options, unknown>> = {}, env: NodeJS.ProcessEnv = process.env): Agent | null {
  const g = globalThis as { [REGISTRY]?: Registry };
  let log: Logger = createLogger('warn');
  try {
    if (g[REGISTRY]) {
      log.warn(Codes.loadedTwice, 'the agent is already running in this process; the second start does nothing');
      return g[REGISTRY].agent;
    }
    const registry: Registry = { agent: null };
    g[REGISTRY] = registry;
    // Preloads reach worker threads too; the app's main thread is the one to record and warm.
    if (!isMainThread) return null;

    const { options, problems } = resolveOptions(input, env);
    log = createLogger(options.logLevel);
    for (const p of problems) log.warn(p.startsWith('unknown') ? Codes.unknownOption : Codes.badOption, p);
    if (options.mode === 'off') return null;

    const cache = enableCompileCache(path.join(options.dir, 'compile-cache'));
    if (cache) log.debug(`compile cache: ${cache}`);

    const profile = options.mode === 'record' ? null : loadWarmupProfile(options, log);
    const state = new WarmupState(options.onDeadline === 'ready');
    const ownServers = new Set<Server>();
    if (options.port !== null) {
      ownServers.add(
        lazy.readiness().startReadinessServer(
          state,
          options.host,
          options.port,
          (port) => log.debug(`readiness on http://${options.host}:${port}/ready`),
          (error) => log.warn(Codes.readinessFailed, `the readiness server cannot listen on ${options.host}:${options.port} (${error.message})`),
        ),
      );
    }
    const stopWarmup = profile ? lazy.warmup().startWarmup(profile, options, state, log, (s) => ownServers.has(s)) : null;
    if (profile) {
      const startedAt = new Date();
      void state.whenSettled().then(() => {
        try {
          lazy.telemetry().reportWarmup(state.status(), startedAt, preheatVersion());
        } catch (error) {
          log.warn(Codes.internal, `reporting the warm-up failed: ${(error as Error)?.message ?? String(error)}`);
        }
      });
    }
    if (!profile) state.set('ready', options.mode === 'record' ? 'record mode: nothing to warm' : 'no profile to warm from: started cold');

    const recorder = options.mode === 'warm' ? null : startRecording(options, log, ownServers);
    // Replayed traffic is not production traffic: while warming, the recording waits for the end.
    // Without a warm-up it starts now, synchronously, to see the app's own start-up code.
    if (recorder && state.settled) recorder.start();
    else if (recorder) void state.whenSettled().then(() => recorder.start());

    registry.agent = {
      options,
      recording: () => recorder?.status() ?? null,
      status: () => state.status(),
      ready: () => state.whenSettled(),
      stop: () => {
        stopWarmup?.();
        recorder?.stop();
        for (const s of ownServers) s.close();
      },
    };
    return registry.agent;
  } catch (error) {
    log.warn(Codes.internal, `the agent could not start (${(error as Error)?.message ?? String(error)}); the app runs without it`);
    return null;
  }
}

function loadWarmupProfile(options: Options, log: Logger): WarmupProfile | null {
  const file = path.join(options.dir, PROFILE_FILE);
  const read = readProfile(file);
  if (read.kind === 'ok') return read.profile;
  if (read.kind === 'bad') log.warn(Codes.badProfile, `${file} cannot be used for warm-up: ${read.reason}; starting cold`);
  else if (options.mode === 'warm') log.warn(Codes.warmupSkipped, `no profile to warm from at ${file}; starting cold (record one with PREHEAT_MODE=record)`);
  return null;
}

function startRecording(options: Options, log: Logger, ownServers: Set<Server>) {
  const sampler = selectSampler(options.sampler, options.sampleIntervalMicros, log);
  if (!sampler) return null;
  const capture =
    options.maxRequests > 0
      ? startRequestCapture({
          methods: options.replayMethods,
          maxRequests: options.maxRequests,
          maxBodyBytes: options.maxBodyBytes,
          ignoreServer: (s) => ownServers.has(s),
          marker: createReplayMarker(),
        })
      : null;
  const recorder = new Recorder(
    sampler,
    options,
    log,
    preheatVersion(),
    capture && { top: () => capture.sample.top(options.maxRequests), resume: () => capture.resume(), pause: () => capture.pause() },
  );
  const removeHooks = installExitHooks(recorder);
  log.debug(`recording with the ${sampler.kind} sampler into ${options.dir}`);
  return {
    start: () => recorder.start(),
    status: () => recorder.getStatus(),
    stop: () => {
      removeHooks();
      recorder.finish();
      capture?.pause();
    },
  };
}
