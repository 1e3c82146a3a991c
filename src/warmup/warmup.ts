import type { ReplayMarker } from '../capture/replay-marker';
import type { Options } from '../config/options';
import { Codes } from '../errors';
import type { Logger } from '../log';
import type { RecordedRequest, WarmupProfile } from '../profile/schema';
import type { WarmupState } from '../readiness/state';
import { placeMarker, type Marker } from './crash-marker';
import { watchDeopts, type DeoptSeen, type DeoptWatch } from './deopt-watch';
import { indexFunctions, type FunctionIndex, type IndexedFunction } from './function-index';
import { Optimizer } from './optimizer';
import { defaultReplayConcurrency } from './cpu-budget';
import { isHttp2Server, isTlsServer, type HttpServer } from '../readiness/app-listen';
import { hotSet } from './hot-set';
import { forMainPort, loopbackTarget, recordedPort, replaySchedule, screenRequests, type ReplayTarget, type Screened } from './replay';
import { createReplayer, type Replayer } from './replay-thread';
import { suspectKey } from './suspects';
import { lowerTiering } from './tier-flags';
import { message, replayUntilWarm } from './warm-rounds';
import { createNatives, type Natives } from './v8-natives';

/** Between two checks of the deopt watch after ready: a few native calls per hot function. */
const WATCH_EVERY_MS = 250;

export interface Warmup {
  /**
   * The port that carried most of the recorded traffic: the server listening on it is the one to
   * warm. Null for a profile without ports (recorded before they were kept, or without requests).
   */
  readonly port: number | null;
  /** The app's HTTP(S) or http2 server listens: warm it. Called once; returns at once, the work runs after. */
  begin(server: HttpServer): void;
  /** Stops replaying and optimizing; the state is left to the caller. */
  stop(): void;
  /**
   * A signal (SIGTERM, SIGINT, SIGHUP) reached the process: it is being stopped from outside (a
   * rollout, a scale-down, a person), so if it dies now the replay did not kill it. The crash
   * marker goes: the next boot warms as usual and quarantines nothing.
   */
  signalled(): void;
}

export interface WarmupContext {
  profile: WarmupProfile;
  options: Options;
  state: WarmupState;
  log: Logger;
  /** The header and this boot's secret value that mark replayed requests. */
  marker: ReplayMarker;
  /** This process is a `node:cluster` worker: replay opens a connection per request (replay.ts says why). */
  clusterWorker?: boolean;
  /** Requests a warm-up from this directory died replaying (quarantine.ts): never replayed. */
  quarantine?: { keys: ReadonlySet<string>; file: string };
  /** After ready: hot functions real traffic deoptimized so far (the whole list each time it grows). */
  onDeopts?: (seen: DeoptSeen[]) => void;
}

/**
 * Warm mode. Natives are switched on now, at the agent's start, before the app's code is optimized
 * (v8-natives.ts says why). Once the app's server listens (`begin`), and after the app's own listen
 * callback has run: finds the hot functions in the heap, replays the recorded requests to the
 * server over loopback while readiness says 503, and between rounds asks V8 to optimize the hot
 * functions that have feedback, until they are all optimized and the replay has run long enough.
 * Every failure ends the warm-up through `state.stop`, which decides as the deadline would: the
 * warm-up never pins readiness at 503.
 */
export function prepareWarmup(ctx: WarmupContext): Warmup {
  const { profile, options, state, log } = ctx;
  const hot = hotSet(profile.hotFunctions);
  state.setCount('hot', hot.length);
  let stopped = false;
  let natives: (Natives & { close(): void }) | null = null;
  try {
    natives = createNatives();
  } catch (error) {
    // --disallow-code-generation-from-strings, or a V8 that refuses the flag: replay still warms.
    log.warn(Codes.warmupDegraded, `V8 natives are unavailable (${message(error)}); warming by replay only`);
  }
  const closeNatives = () => natives?.close();
  let replayer: Replayer | null = null;
  /** The hot functions found in the heap: watched after ready. */
  let found: IndexedFunction[] = [];
  let watch: DeoptWatch | null = null;
  let crashMarker: Marker | null = null;
  // A replayed request that ends the process (exit in its handler) leaves the marker: the next
  // boot starts cold. Any other exit during the warm-up is not the warm-up's doing.
  const onExit = () => {
    if ((replayer?.inFlight() ?? 0) === 0) crashMarker?.clear();
  };

  const mainPort = recordedPort(profile.requests ?? []);
  const run = async (server: HttpServer) => {
    const target = loopbackTarget(server.address(), isTlsServer(server), isHttp2Server(server));
    if (!target) log.warn(Codes.warmupSkipped, 'the app listens on no loopback address; replay goes to loopback only, so it is skipped');
    const mine = forMainPort(profile.requests ?? [], mainPort);
    if (mine.other) log.debug(`replay: ${mine.other} recorded requests were answered by a server on another port than ${mainPort}; not replayed`);
    const screened = screenRequests(mine.kept, {
      methods: options.replayMethods,
      maxBodyBytes: options.maxBodyBytes,
      maxRequests: options.maxRequests,
      replayPaths: options.replayPaths,
      skipPaths: options.skipPaths,
    });
    reportSkipped(screened, log);
    const quarantined = withoutQuarantined(screened, ctx.quarantine, log);
    state.setCount('skipped', Object.values(screened.skipped).reduce((a, b) => a + b, 0) + quarantined);
    const schedule = target ? replaySchedule(screened.kept) : [];
    try {
      await prepareAndWarm(server, target, schedule, screened);
    } finally {
      replayer?.close();
    }
  };

  const prepareAndWarm = async (server: HttpServer, target: ReplayTarget | null, schedule: RecordedRequest[], screened: Screened) => {
    // The listen that called begin() is still on the stack, and the app's own listen callback runs
    // right after it: the heap scan (one atomic walk, seconds on a large heap) waits until both
    // are done and the loop has answered what was waiting (a /live probe).
    await yieldToLoop();
    if (stopped || state.settled) return;
    // Started before the heap scan: a worker thread boots on another core while the scan holds this one.
    if (schedule.length) {
      replayer = createReplayer(options.replayThread, {
        schedule,
        target: target!,
        concurrency: options.replayConcurrency ?? defaultReplayConcurrency(),
        timeoutMs: Math.min(2000, Math.max(100, options.deadlineMs)),
        marker: ctx.marker,
        newConnectionEach: ctx.clusterWorker === true,
        onResult: (r) => state.count(r.ok ? 'replayed' : 'errors'),
        onFallback: (why) => log.warn(Codes.warmupDegraded, `the replay's worker thread ${why}; replaying on the app's main thread`),
        onStarted: (ms) => log.debug(`replay: the worker thread was ready to send ${ms} ms after it was created`),
      });
    }
    let index: FunctionIndex | null = null;
    if (natives && hot.length) {
      state.set('indexing', `finding ${hot.length} hot functions in the heap`);
      try {
        index = indexFunctions(hot, options.root, natives);
        state.setScanMs(index.scanMs);
        state.setCount('stale', index.stale.length);
        log.debug(`function index: ${index.found.length} found, ${index.stale.length} stale, ${index.missing.length} not loaded (${index.scanMs} ms)`);
      } catch (error) {
        log.warn(Codes.warmupDegraded, `finding the hot functions failed (${message(error)}); warming by replay only`);
      }
      await yieldToLoop();
    }
    if (stopped || state.settled) return;
    if (!index?.found.length && schedule.length === 0) {
      state.set('ready', target ? 'nothing to warm: no hot function found and no request to replay' : 'nothing to warm on loopback and no hot function found');
      return;
    }

    crashMarker = placeMarker(options.dir, options.deadlineMs);
    if (crashMarker) replayer?.writeAheadTo(crashMarker);
    process.on('exit', onExit);
    const tiering = options.warmTiering === 'lowered' ? lowerTiering() : null;
    try {
      await warm(server, target, schedule, index, screened.kept);
    } finally {
      tiering?.restore();
      process.removeListener('exit', onExit);
      crashMarker?.clear();
    }
  };

  const warm = async (server: HttpServer, target: ReplayTarget | null, schedule: RecordedRequest[], index: FunctionIndex | null, requests: RecordedRequest[]) => {
    const optimizer = natives && index?.found.length ? new Optimizer(index.found, natives) : null;
    if (optimizer) found = index!.found;
    await replayUntilWarm({ server, h2: target?.h2 === true, schedule, requests, replayer, optimizer, index, state, options, log, marker: ctx.marker, stopped: () => stopped });
  };

  // Real traffic may bring types the replay did not: a forced function that loses its optimized
  // code then is shown in /status and, through onDeopts, marked in the next recording.
  const watchAfterReady = () => {
    if (stopped || !natives || !found.length || options.watchMs <= 0) return;
    state.setWatch(true);
    watch = watchDeopts(found, natives, {
      forMs: options.watchMs,
      everyMs: WATCH_EVERY_MS,
      onDeopt(seen) {
        state.setWatch(true, seen);
        log.debug(`deopt watch: ${seen.map((d) => `${d.name || '(anonymous)'} ${d.file}:${d.line} ${d.times}x`).join(', ')}`);
        ctx.onDeopts?.(seen);
      },
      onError: (error) => log.debug(`deopt watch stopped: ${message(error)}`),
      onEnd() {
        state.setWatch(false);
        found = [];
      },
    });
  };

  let begun = false;
  return {
    port: mainPort,
    begin(server) {
      if (begun || stopped) return;
      begun = true;
      run(server)
        .then(watchAfterReady)
        .catch((error: unknown) => {
          log.warn(Codes.internal, `warm-up failed: ${message(error)}`);
          state.stop(`warm-up failed: ${message(error)}`);
        })
        .finally(closeNatives)
        .catch(() => {
          // Closing natives cannot fail the app either.
        });
    },
    stop() {
      stopped = true;
      watch?.stop();
      replayer?.close();
      closeNatives();
    },
    signalled() {
      crashMarker?.clear();
    },
  };
}

function reportSkipped(screened: Screened, log: Logger): void {
  // Requests kept out on purpose (PREHEAT_REPLAY_PATHS, PREHEAT_SKIP_PATHS) are counted, not warned about.
  const { method, path, body, beyondLimit } = screened.skipped;
  const parts = [
    method && `${method} with a method outside PREHEAT_REPLAY_METHODS`,
    path && `${path} whose target is not an origin-form path`,
    body && `${body} with a body over PREHEAT_MAX_BODY_BYTES`,
    beyondLimit && `${beyondLimit} beyond PREHEAT_MAX_REQUESTS`,
  ].filter(Boolean);
  if (parts.length) log.warn(Codes.replaySkipped, `the profile's requests break the replay rules and are not replayed: ${parts.join(', ')}`);
}

/**
 * Takes the quarantined requests out of `screened.kept` (one warning, naming a few) and returns
 * how many went. A quarantined request was in flight when a warm-up from this directory died.
 */
function withoutQuarantined(screened: Screened, quarantine: WarmupContext['quarantine'], log: Logger): number {
  if (!quarantine?.keys.size) return 0;
  const out = screened.kept.filter((r) => quarantine.keys.has(suspectKey(r)));
  if (out.length === 0) return 0;
  const gone = new Set(out);
  screened.kept = screened.kept.filter((r) => !gone.has(r));
  const named = out.slice(0, 3).map((r) => `${r.method} ${r.url}`).join(', ') + (out.length > 3 ? ', …' : '');
  const n = out.length === 1 ? '1 recorded request is' : `${out.length} recorded requests are`;
  log.warn(
    Codes.requestsQuarantined,
    `${n} quarantined and not replayed, as a warm-up that replayed ${out.length === 1 ? 'it' : 'them'} killed its process (${named}); remove ${quarantine.file} to replay ${out.length === 1 ? 'it' : 'them'} again`,
  );
  return out.length;
}

/** Lets the current turn finish (the app's listen callback) and the loop answer what is waiting. */
async function yieldToLoop(): Promise<void> {
  await new Promise<void>((r) => setImmediate(r));
  await new Promise<void>((r) => setTimeout(r, 1).unref());
}

