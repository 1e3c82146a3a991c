import type * as http from 'node:http';
import type * as net from 'node:net';
import * as path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { startRequestCapture } from '../capture/request-capture';
import { createReplayMarker, type ReplayMarker } from '../capture/replay-marker';
import type { Options } from '../config/options';
import { resolveOptions } from '../config/resolve';
import { Codes } from '../errors';
import { createLogger, type Logger } from '../log';
import type { WarmupProfile } from '../profile/schema';
import { findAppRoot } from '../profile/app-root';
import { storedProfiles } from '../profile/boot-read';
import { isHttp2Server, isHttpServer, listeningPort, watchAppListen } from '../readiness/app-listen';
import { ClusterReadiness, isClusterWorker, reportToPrimary } from '../readiness/cluster';
import type { ReadinessSource } from '../readiness/server';
import { canCaptureHttp2 } from '../capture/request-capture';
import { startReadinessClock } from '../readiness/clock';
import { gateAppServer } from '../readiness/gate';
import { WarmupState, type Status } from '../readiness/state';
import { selectSampler } from '../sampler/select';
import { preheatVersion } from '../version';
import { enableCompileCache } from '../warmup/compile-cache';
import { crashedWarmups, retireMarkers } from '../warmup/crash-marker';
import { loadQuarantine } from '../warmup/quarantine';
import { installExitHooks } from './exit-hooks';
import type { DeoptSeen } from '../warmup/deopt-watch';
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

/**
 * How long to wait for a server on the recorded port once another HTTP server listens first. An
 * app opens its servers during its start-up, usually within a second of each other; past this the
 * ports have changed (PORT=0, a new deployment) and the first HTTP server is the best guess.
 */
const FALLBACK_WAIT_MS = 3000;

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
  let failState: WarmupState | null = null;
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

    const warmable = options.mode === 'record' ? null : warmableProfile(options, log);
    const profile = warmable?.profile ?? null;
    const state = new WarmupState(options.onDeadline === 'ready');
    failState = state;
    // First, before anything else can fail: whatever happens next, readiness gets decided.
    const clock = startReadinessClock(state, options);
    void state.whenSettled().then(() => clock.stop());
    const ownServers = new Set<net.Server>();
    // One secret per boot: the replay sends it, the capture skips exactly the requests that carry it.
    const replayMarker = createReplayMarker();
    // In a node:cluster worker the primary owns the readiness server (cluster.ts); the worker reports to it.
    const clusterWorker = options.port !== null && isClusterWorker();
    const stopReporting = clusterWorker ? reportToPrimary(state, (v) => replayMarker.adopt(v)) : null;
    const source = options.port === null || clusterWorker ? null : new ClusterReadiness(state, replayMarker.value, options.startLimitMs + options.deadlineMs, options.onDeadline === 'ready');
    const readiness = source ? startReadiness(source, options, log) : null;
    if (readiness) ownServers.add(readiness);
    const warmup = profile
      ? lazy.warmup().prepareWarmup({
          profile,
          options,
          state,
          log,
          marker: replayMarker,
          clusterWorker,
          quarantine: warmable!.quarantine,
          // In auto mode the recording after ready marks them: the next warm-up does not force them.
          onDeopts: (seen) => recorder?.noteDeopts(seen),
        })
      : null;
    // Servers that asked for port 0, and the ports the OS gave them: not recorded (request-capture.ts).
    const askedForAnyPort = new WeakSet<net.Server>();
    const ephemeralPorts = new Set<number>();
    // One set of signal hooks per process (two would each take the other for the app's listener,
    // and neither would let the signal end the process): the recorder's, else the warm-up's own
    // while it runs. Either way a signal tells the warm-up it is being stopped, not crashing.
    const signalled = () => warmup?.signalled();
    const recorder = options.mode === 'warm' ? null : startRecording(options, log, ownServers, replayMarker, ephemeralPorts, signalled);
    if (warmup && !recorder) {
      // Kept for the process's life, as the recorder's are: replays still in flight after a
      // deadline hold the crash marker, and taking a signal listener away races a signal libuv has
      // already caught, which then reaches no listener and is lost (the process lived on).
      installExitHooks({ checkpoint() {}, finish() {}, signal: signalled });
    }
    // Starts now, synchronously, to see the app's own start-up code, whether or not a warm-up
    // follows (an app that never listens is recorded too). Replayed traffic is not production
    // traffic: while the replay runs, the recording pauses.
    recorder?.start();
    let warmed: net.Server | null = null;
    const choose = (server: net.Server) => {
      warmed = server;
      if (fallbackTimer) clearTimeout(fallbackTimer);
      clock.listened();
      if (warmup && isHttpServer(server)) {
        recorder?.pause();
        void state.whenSettled().then(() => recorder?.resume());
        warmup.begin(server);
      }
      else state.set('ready', options.mode === 'record' ? 'record mode: nothing to warm' : 'no profile to warm from: started cold');
    };
    // The server to warm is the one on the port that carried the recorded traffic, whichever
    // listens first (a metrics server often does). When none of the app's servers is on that port
    // (ports are assigned at start, PORT=0), the first HTTP-capable server is warmed after a wait.
    const candidates: net.Server[] = [];
    let fallbackTimer: NodeJS.Timeout | null = null;
    const fallback = () => {
      const server = candidates.find((s) => s.listening);
      if (warmed || !server) return;
      log.debug(`no app server listens on the recorded port ${warmup?.port}; warming the first HTTP server to listen, on port ${listeningPort(server)}`);
      choose(server);
    };
    const stopWatching = watchAppListen({
      isOwn: (s) => ownServers.has(s),
      onListenStart: (port, server) => {
        if (port === null) askedForAnyPort.add(server);
        // The app asked for the readiness server's port: give it up before the app's bind fails.
        if (readiness && port !== null && port === options.port) {
          // Not bound yet (its address lookup is still pending): it would bind first and take the port.
          if (!readiness.listening) readiness.once('listening', () => readiness.close());
          readiness.close();
          log.warn(Codes.portTaken, `the app listens on PREHEAT_PORT=${port}; the readiness server is off (give it a port of its own)`);
        }
      },
      onListening: (server) => {
        const port = listeningPort(server);
        if (port !== null && askedForAnyPort.has(server)) ephemeralPorts.add(port);
        if (isHttp2Server(server) && recorder && !canCaptureHttp2()) {
          log.warn(Codes.http2NotRecorded, `Node ${process.version} publishes no http2 diagnostics channels: requests to the app's HTTP/2 server are not recorded (Node 22 and later record them)`);
        }
        // Every HTTP server of the app gates the path, from its listen: while preheat waits for the
        // server on the recorded port, the one a probe asks may already be up.
        if (options.gatePath && isHttpServer(server) && !state.settled) gateAppServer(server as http.Server, options.gatePath, () => state.ready);
        if (warmed || (warmup && !isHttpServer(server))) return;
        if (!warmup || warmup.port === null || port === warmup.port) return choose(server);
        candidates.push(server);
        if (!fallbackTimer) {
          fallbackTimer = setTimeout(fallback, Math.min(FALLBACK_WAIT_MS, options.deadlineMs));
          fallbackTimer.unref();
        }
      },
    });
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


    registry.agent = {
      options,
      recording: () => recorder?.status() ?? null,
      status: () => state.status(),
      ready: () => state.whenSettled(),
      stop: () => {
        warmup?.stop();
        clock.stop();
        stopWatching();
        stopReporting?.();
        if (fallbackTimer) clearTimeout(fallbackTimer);
        recorder?.stop();
        for (const s of ownServers) s.close();
      },
    };
    return registry.agent;
  } catch (error) {
    log.warn(Codes.internal, `the agent could not start (${(error as Error)?.message ?? String(error)}); the app runs without it`);
    failState?.stop('the agent could not start');
    return null;
  }
}

/**
 * The profile to warm from, unless a warm-up from this directory killed its process since the
 * profile was written: then this boot starts cold (and records afresh), or a crash loop follows.
 * The requests that crashed warm-up was replaying are quarantined (quarantine.ts) for every later
 * warm-up: the profile this boot records still holds them, merged in from the one it crashed on.
 */
function warmableProfile(options: Options, log: Logger): { profile: WarmupProfile; quarantine: { keys: Set<string>; file: string } } | null {
  const profile = loadWarmupProfile(options, log);
  if (!profile) return null;
  const recordedAt = Math.min(Date.parse(profile.updatedAt) || 0, Date.now());
  const crashed = crashedWarmups(options.dir);
  const quarantine = loadQuarantine(options.dir, crashed, profile.requests ?? [], log);
  const newest = crashed.at(-1);
  if (newest && newest.startedAt >= recordedAt) {
    const suspects = newest.suspects ?? [];
    const named = suspects.slice(0, 3).map((k) => quarantine.labels.get(k) ?? k).join(', ') + (suspects.length > 3 ? ', …' : '');
    const what = suspects.length === 0 ? '' : `; ${suspects.length === 1 ? 'the request' : `the ${suspects.length} requests`} it was replaying (${named}) will not be replayed again (${quarantine.file})`;
    log.warn(
      Codes.warmupCrashed,
      `the warm-up of ${new Date(newest.startedAt).toISOString()} (pid ${newest.pid} on ${newest.host}) never ended: its process died during it; starting cold and recording afresh${what}`,
    );
    return null;
  }
  retireMarkers(options.dir, recordedAt, Date.now(), (m) => !quarantine.saved && (m.suspects?.length ?? 0) > 0);
  return { profile, quarantine: { keys: quarantine.keys, file: quarantine.file } };
}

function startReadiness(state: ReadinessSource, options: Options, log: Logger): net.Server {
  return lazy.readiness().startReadinessServer(
    state,
    options.host,
    options.port!,
    (port) => log.debug(`readiness on http://${options.host}:${port}/ready`),
    (error) => log.warn(Codes.readinessFailed, `the readiness server cannot listen on ${options.host}:${options.port} (${error.message})`),
  );
}

/** The profile to warm from: PREHEAT_DIR's one read (boot-read.ts), which the recorder shares. */
function loadWarmupProfile(options: Options, log: Logger): WarmupProfile | null {
  const stored = storedProfiles(options, log);
  if (stored.profile) return stored.profile;
  // An unusable file has had its warning already.
  if (options.mode === 'warm' && stored.snapshot.skipped.length === 0) {
    log.warn(Codes.warmupSkipped, `no profile to warm from at ${path.join(options.profileDir, 'profile.json')}; starting cold (record one with PREHEAT_MODE=record)`);
  }
  return null;
}

function startRecording(options: Options, log: Logger, ownServers: Set<net.Server>, marker: ReplayMarker, ephemeralPorts: ReadonlySet<number>, signalled: () => void) {
  const sampler = selectSampler(options.sampler, options.sampleIntervalMicros, log);
  if (!sampler) return null;
  const capture =
    options.maxRequests > 0
      ? startRequestCapture({
          methods: options.replayMethods,
          maxRequests: options.maxRequests,
          maxBodyBytes: options.maxBodyBytes,
          ignoreServer: (s) => ownServers.has(s),
          marker,
          steadyAfterMs: options.steadyAfterMs,
          ephemeralPorts,
          maxPerSecond: options.capturePerSecond,
        })
      : null;
  // Read at the start, as in warm mode: processes started together (cluster workers) see the
  // same directory and record the same generation.
  storedProfiles(options, log);
  const recorder = new Recorder(
    sampler,
    options,
    log,
    preheatVersion(),
    capture && { top: () => capture.sample.top(options.maxRequests), resume: () => capture.resume(), pause: () => capture.pause() },
    () => storedProfiles(options, log),
    findAppRoot(process.argv[1], process.cwd()).entryIsApp,
  );
  const removeHooks = installExitHooks({ checkpoint: () => recorder.checkpoint(), finish: () => recorder.finish(), signal: signalled });
  log.debug(`recording with the ${sampler.kind} sampler into ${options.dir}`);
  return {
    start: () => recorder.start(),
    pause: () => recorder.pause(),
    resume: () => recorder.resume(),
    noteDeopts: (seen: readonly DeoptSeen[]) => recorder.noteDeopts(seen),
    status: () => recorder.getStatus(),
    stop: () => {
      removeHooks();
      recorder.finish();
      capture?.pause();
    },
  };
}
