import * as dc from 'node:diagnostics_channel';
import * as http from 'node:http';
import type { Options } from '../config/options';
import { Codes } from '../errors';
import type { Logger } from '../log';
import type { HotFunction, WarmupProfile } from '../profile/schema';
import { gateAppServer } from '../readiness/gate';
import type { WarmupState } from '../readiness/state';
import { indexFunctions } from './function-index';
import { Optimizer } from './optimizer';
import { loopbackTarget, replay, replaySchedule } from './replay';
import { createNatives } from './v8-natives';

/** The hot set: functions worth a forced optimization (most self time first). */
const MAX_HOT = 200;
/** Below this share of self time a function is not worth compiling ahead. */
const MIN_SHARE = 0.002;
/** Requests per replay round between two optimizer steps. */
const ROUND_REQUESTS = 50;
/**
 * Times the whole schedule is replayed before the first optimizer step: optimizing on the
 * feedback of a few calls gives code that deoptimizes on the first unusual real request.
 */
const FEEDBACK_PASSES = 2;
/**
 * Replayed requests before ready, whatever the optimizer says. On the docs-shop fixture (fastify,
 * ajv, marked, handlebars) the median of the first 1000 real requests was 1.24x steady state after
 * the hot set alone, 1.09x after 2000 replayed requests (scripts/bench/warmup.js, Node 20).
 */
const MIN_REPLAYED = 2000;

const LISTEN_CHANNEL = 'tracing:net.server.listen:asyncEnd';

/**
 * Warm mode: once the app's first HTTP server listens, replays the recorded requests to it over
 * loopback while readiness says 503; between rounds, asks V8 to optimize the hot functions that
 * have feedback, until all are optimized (ready) or the deadline passes.
 */
export function startWarmup(profile: WarmupProfile, options: Options, state: WarmupState, log: Logger, isOwnServer: (s: http.Server) => boolean): () => void {
  const hot = hotSet(profile.hotFunctions);
  state.setCount('hot', hot.length);
  let stopped = false;
  let started = false;
  // Made now, at the agent's start, before the app has optimized code (see v8-natives.ts).
  const natives = createNatives();

  const deadline = setTimeout(() => {
    natives.close();
    const s = state.status();
    state.set(
      'deadline',
      `deadline of ${options.deadlineMs} ms passed with ${s.optimized} of ${s.hot} hot functions optimized; ` +
        (options.onDeadline === 'ready' ? 'reporting ready anyway (PREHEAT_ON_DEADLINE=ready)' : 'staying not ready (PREHEAT_ON_DEADLINE=fail)'),
    );
  }, options.deadlineMs);
  deadline.unref();

  const onListen = (message: unknown) => {
    const server = (message as { server?: unknown }).server;
    if (started || stopped || !(server instanceof http.Server) || isOwnServer(server)) return;
    started = true;
    dc.unsubscribe(LISTEN_CHANNEL, onListen);
    if (options.gatePath) gateAppServer(server, options.gatePath, () => state.ready);
    run(server)
      .catch((error: unknown) => {
        log.warn(Codes.internal, `warm-up failed: ${(error as Error)?.message ?? String(error)}`);
        state.set('failed', `warm-up failed: ${(error as Error)?.message}`);
      })
      .finally(() => natives.close())

  };
  dc.subscribe(LISTEN_CHANNEL, onListen);

  const run = async (server: http.Server) => {
    const target = loopbackTarget(server.address());
    const requests = profile.requests ?? [];
    if (!target) {
      log.warn(Codes.warmupSkipped, 'the app listens on no loopback address; replay goes to loopback only, so it is skipped');
    }
    const index = indexFunctions(hot, options.root, natives);
    state.setCount('stale', index.stale.length);
    log.debug(`function index: ${index.found.length} found, ${index.stale.length} stale, ${index.missing.length} not loaded (${index.scanMs} ms)`);
    const optimizer = new Optimizer(index.found, natives);
    const schedule = replaySchedule(requests);
    state.set('replaying', `replaying ${requests.length} recorded requests`);
    let inRound = 0;
    for (let round = 0; ; round++) {
      if (stopped || state.settled) return;
      if (target && schedule.length) {
        inRound = 0;
        const size = round === 0 ? schedule.length * FEEDBACK_PASSES : ROUND_REQUESTS;
        await replay(schedule, target, {
          concurrency: options.replayConcurrency,
          timeoutMs: Math.min(2000, options.deadlineMs),
          shouldStop: () => stopped || state.settled || inRound++ >= size,
          onResult: (r) => state.count(r.ok ? 'replayed' : 'errors'),
        });
      }
      if (stopped || state.settled) return;
      const { replayed, errors } = state.status();
      if (errors >= 10 && errors > replayed) {
        // The replay exercises error paths (or nothing): warming those says nothing about the
        // app's real requests, and hammering a failing app helps no one. The deadline decides.
        state.set('replaying', `replayed requests fail (${errors} failed, ${replayed} answered); waiting for the deadline`);
        return;
      }
      let progress;
      try {
        progress = optimizer.step();
      } catch (error) {
        // A helper whose bytecode V8 flushed throws a SyntaxError: no more forced optimization.
        state.set('ready', `replayed ${replayed} requests; forced optimization stopped (${(error as Error)?.message})`);
        return;
      }
      state.setCount('optimized', progress.optimized);
      state.set('optimizing', `${progress.optimized} of ${index.found.length} found hot functions optimized`);
      log.debug(`optimizer: ${JSON.stringify(progress.tiers)}`);
      // Beyond the hot set, a service's code (its framework, Node's http) tiers up with traffic
      // only: ready once the hot set is settled and the replay has run long enough for the rest.
      const enough = !target || schedule.length === 0 || replayed >= MIN_REPLAYED;
      if (progress.pending === 0 && enough) {
        state.set('ready', `${progress.optimized} of ${hot.length} hot functions optimized (${index.stale.length} stale, ${index.missing.length} not loaded, ${progress.givenUp} not optimizable)`);
        return;
      }
      // Without requests to replay, the app's own traffic has to run the code: wait a little.
      if (!target || schedule.length === 0) await new Promise((r) => setTimeout(r, 100).unref());
    }
  };

  return () => {
    stopped = true;
    natives.close();
    clearTimeout(deadline);
    dc.unsubscribe(LISTEN_CHANNEL, onListen);
  };
}

function hotSet(functions: HotFunction[]): HotFunction[] {
  return functions
    .filter((f) => f.share >= MIN_SHARE && !f.file.startsWith('node:') && !isModuleTopLevel(f))
    .slice(0, MAX_HOT);
}

/**
 * A module's top-level code (unnamed, at 1:1) ran once, while the module loaded: it never runs
 * again, so optimizing it is wasted, and counting it kept a "not optimizable" in every status.
 */
function isModuleTopLevel(f: HotFunction): boolean {
  return f.name === '' && f.line === 1 && f.column === 1;
}
