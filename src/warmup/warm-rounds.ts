import { performance } from 'node:perf_hooks';
import type { ReplayMarker } from '../capture/replay-marker';
import { canCaptureHttp2 } from '../capture/request-capture';
import type { Options } from '../config/options';
import { Codes } from '../errors';
import type { Logger } from '../log';
import type { RecordedRequest } from '../profile/schema';
import type { HttpServer } from '../readiness/app-listen';
import type { WarmupState } from '../readiness/state';
import type { FunctionIndex } from './function-index';
import { LatencyPolicy } from './latency-policy';
import type { Optimizer } from './optimizer';
import type { Replayer } from './replay-thread';
import { timeReplayedRequests } from './replay-timing';

/** Requests per replay round between two optimizer steps and readiness checks… */
const ROUND_REQUESTS = 50;
/** …or this much time, whichever comes first: on a slow service 50 requests take seconds. */
const ROUND_MS = 250;
const FIRST_ROUND_MS = 1000;
/**
 * Times the whole schedule is replayed before the first optimizer step: optimizing on the
 * feedback of a few calls gives code that deoptimizes on the first unusual real request.
 */
const FEEDBACK_PASSES = 2;
/**
 * For a profile without latencies (recorded before they were kept): replayed requests before
 * ready, whatever the optimizer says. On the docs-shop fixture (fastify, ajv, marked, handlebars)
 * the median of the first 1000 real requests was 1.24x steady state after the hot set alone,
 * 1.09x after 2000 replayed requests (scripts/bench/warmup.js, Node 20).
 */
const MIN_REPLAYED = 2000;

export interface RoundsInput {
  /** The app's server: a server it closes ends the warm-up. */
  server: HttpServer;
  /** The replay goes over HTTP/2. */
  h2: boolean;
  schedule: RecordedRequest[];
  /** The recorded requests the schedule was made of: what the readiness rule judges. */
  requests: RecordedRequest[];
  /** Null when there is nothing to replay. */
  replayer: Replayer | null;
  /** Null without natives or without a hot function found in the heap. */
  optimizer: Optimizer | null;
  index: FunctionIndex | null;
  state: WarmupState;
  options: Options;
  log: Logger;
  marker: ReplayMarker;
  /** The agent stopped the warm-up. */
  stopped(): boolean;
}

/**
 * The warm-up's loop: replay rounds, each followed by an optimizer step and the readiness rule
 * (latency-policy.ts, or a count for a profile without latencies), until the hot set is settled
 * and the rule says warm. Ends by setting the state (ready, or stopped with the deadline's
 * decision), or returns when something else settled it (the deadline, the agent).
 */
export async function replayUntilWarm(input: RoundsInput): Promise<void> {
  const { server, schedule, requests, replayer, optimizer, index, state, options, log } = input;
  // Ready when the traffic's main requests run near their recorded steady latency; a profile
  // without latencies falls back to a count of replayed requests.
  const policy = new LatencyPolicy(requests, { ratio: options.readyLatencyRatio });
  // Node 20 cannot time an HTTP/2 request where the app sees it (no http2 channels): count instead.
  const timeable = !input.h2 || canCaptureHttp2();
  const rule = policy.usable && schedule.length && timeable ? 'latency' : 'count';
  const stopTiming = rule === 'latency' ? timeReplayedRequests(input.marker, (t) => policy.observe(t)) : () => {};
  state.setLatency(rule, policy.table());
  const appClosed = () => !server.listening;
  const over = () => input.stopped() || state.settled;
  state.set('replaying', `replaying ${requests.length} recorded requests`);
  try {
    for (let round = 0; ; round++) {
      if (over()) return;
      if (appClosed()) return state.stop('the app closed its server during the warm-up');
      if (replayer) {
        const size = round === 0 ? schedule.length * FEEDBACK_PASSES : ROUND_REQUESTS;
        const until = performance.now() + (round === 0 ? FIRST_ROUND_MS : ROUND_MS);
        await replayer.round(size, until, () => over() || appClosed());
        state.setReplayThread(replayer.thread);
      }
      if (over()) return;
      if (appClosed()) return state.stop('the app closed its server during the warm-up');
      const { replayed, errors } = state.status();
      if (errors >= 10 && errors > replayed) {
        // The replay exercises error paths (or nothing): warming those says nothing about the
        // app's real requests, and hammering a failing app helps no one. The deadline decides.
        state.set('replaying', `replayed requests fail (${errors} failed, ${replayed} answered); waiting for the deadline`);
        return;
      }
      const converged = rule === 'latency' ? policy.endRound() : schedule.length === 0 || replayed >= MIN_REPLAYED;
      state.setLatency(rule, policy.table());
      const why = rule === 'latency' ? `the main requests run within ${options.readyLatencyRatio}x their recorded steady latency` : `replayed ${replayed} requests`;
      if (!optimizer) {
        if (converged) return state.set('ready', `${why} (no forced optimization)`);
        continue;
      }
      let progress;
      try {
        progress = optimizer.step();
      } catch (error) {
        // A helper whose bytecode V8 flushed while natives syntax was off throws a SyntaxError.
        // A failure inside the warm-up like any other: the deadline's decision, at once (it
        // said ready here whatever PREHEAT_ON_DEADLINE said).
        log.warn(Codes.internal, `warm-up failed: forced optimization failed (${message(error)})`);
        return state.stop(`forced optimization failed after ${replayed} replayed requests (${message(error)})`);
      }
      state.setCount('optimized', progress.optimized);
      state.setCount('unforced', progress.unforced);
      state.set('optimizing', `${progress.optimized} of ${index!.found.length} found hot functions optimized`);
      log.debug(`optimizer: ${JSON.stringify(progress.tiers)}`);
      // Beyond the hot set, a service's code (its framework, Node's http) tiers up with traffic
      // only: ready once the hot set is settled and the measurement (or the count) says so.
      if (progress.pending === 0 && converged) {
        return state.set(
          'ready',
          `${why}; ${progress.optimized} of ${index!.found.length + index!.stale.length + index!.missing.length} hot functions optimized (${index!.stale.length} stale, ${index!.missing.length} not loaded, ${progress.givenUp} not optimizable${progress.unforced ? `, ${progress.unforced} left to V8 as real traffic deoptimized them after an earlier warm-up` : ''})`,
        );
      }
      // Without requests to replay, the app's own traffic has to run the code: wait a little.
      if (schedule.length === 0) await new Promise((r) => setTimeout(r, 100).unref());
    }
  } finally {
    stopTiming();
  }
}

/** The first line of an error's message. */
export function message(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!;
}
