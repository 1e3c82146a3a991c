import { isMainThread } from 'node:worker_threads';
import type { Options } from '../config/options';
import { resolveOptions } from '../config/resolve';
import { Codes } from '../errors';
import { createLogger, type Logger } from '../log';
import { selectSampler } from '../sampler/select';
import { preheatVersion } from '../version';
import { installExitHooks } from './exit-hooks';
import { Recorder, type RecorderStatus } from './recorder';

/** One agent per process, even with two copies of preheat loaded (the OpenTelemetry API's pattern). */
const REGISTRY = Symbol.for('preheat.agent.v0');

export interface Agent {
  readonly options: Readonly<Options>;
  /** What the recorder has done so far; null when not recording. */
  status(): Readonly<RecorderStatus> | null;
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
    // Preloads reach worker threads too; the app's main thread is the one to record.
    if (!isMainThread) return null;

    const { options, problems } = resolveOptions(input, env);
    log = createLogger(options.logLevel);
    for (const p of problems) log.warn(p.startsWith('unknown') ? Codes.unknownOption : Codes.badOption, p);
    if (options.mode === 'off') return null;
    if (options.mode === 'warm') {
      log.warn(Codes.modeUnavailable, 'PREHEAT_MODE=warm is not built yet in this version; the app runs without warm-up');
      return null;
    }
    // 'auto' warms from a profile once warm-up exists; until then it records.
    const sampler = selectSampler(options.sampler, options.sampleIntervalMicros, log);
    if (!sampler) return null;
    const recorder = new Recorder(sampler, options, log, preheatVersion());
    const removeHooks = installExitHooks(recorder);
    recorder.start();
    log.debug(`recording with the ${sampler.kind} sampler into ${options.dir}`);
    registry.agent = {
      options,
      status: () => recorder.getStatus(),
      stop: () => {
        removeHooks();
        recorder.finish();
      },
    };
    return registry.agent;
  } catch (error) {
    log.warn(Codes.internal, `the agent could not start (${(error as Error)?.message ?? String(error)}); the app runs without it`);
    return null;
  }
}
