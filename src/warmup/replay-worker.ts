/**
 * The replay client on a worker thread (replay-thread.ts starts it). It loads replay.ts and nothing
 * of the agent: it is started without the app's preloads (replay-thread.ts says how), and it never
 * writes to stdout or stderr. It sends the schedule round after round, continuously, from the `go`
 * message until the main thread sets the stop flag or terminates it; results go back in batches.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { RecordedRequest } from '../profile/schema';
import { writeSuspectsTo, type MarkerInfo } from './crash-marker';
import { encodeResult, replay, type ReplayTarget } from './replay';
import { SuspectLog } from './suspects';

/** What the main thread gives the worker (structured-cloned, except `flags`, which is shared). */
export interface ReplayWorkerData {
  kind: 'preheat-replay';
  schedule: RecordedRequest[];
  target: ReplayTarget;
  concurrency: number;
  timeoutMs: number;
  marker: { header: string; value: string };
  newConnectionEach: boolean;
  /** `[STOP, IN_FLIGHT]` on a SharedArrayBuffer: read by the worker, set by the main thread, and back. */
  flags: Int32Array;
  /** Date.now() when the main thread created the worker: `ready` says how long its start took. */
  createdAt: number;
}

/**
 * Messages from the main thread. `suspects`: the crash marker to name the requests in flight in
 * before they are sent (suspects.ts); the worker writes it itself, the main thread does not while it replays.
 */
export type ToWorker = { t: 'go' } | { t: 'marker'; value: string } | { t: 'suspects'; file: string; info: MarkerInfo };
/** Messages to the main thread; `r` holds encodeResult() numbers. */
export type FromWorker = { t: 'ready'; ms: number } | { t: 'results'; r: number[] };

/** Indexes into `flags`. */
export const STOP = 0;
export const IN_FLIGHT = 1;

/** A batch goes back at this many results, or this long after its first one, whichever comes first. */
const BATCH_RESULTS = 32;
const BATCH_MS = 5;

function isReplayWorkerData(d: unknown): d is ReplayWorkerData {
  return typeof d === 'object' && d !== null && (d as ReplayWorkerData).kind === 'preheat-replay';
}

function serve(port: MessagePort, init: ReplayWorkerData): void {
  const { flags } = init;
  // replay() reads the marker's value for every request: a cluster worker adopts its primary's later.
  const marker = { header: init.marker.header, value: init.marker.value };
  let batch: number[] = [];
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (batch.length === 0) return;
    port.postMessage({ t: 'results', r: batch } satisfies FromWorker);
    batch = [];
  };
  let going = false;
  let suspects: SuspectLog | null = null;
  port.on('message', (m: ToWorker) => {
    if (m.t === 'marker' && typeof m.value === 'string') marker.value = m.value;
    else if (m.t === 'suspects' && typeof m.file === 'string') {
      const { file, info } = m;
      suspects = new SuspectLog((keys) => writeSuspectsTo(file, info, keys));
    } else if (m.t === 'go' && !going) {
      going = true;
      void replay(init.schedule, init.target, {
        concurrency: init.concurrency,
        timeoutMs: init.timeoutMs,
        marker,
        newConnectionEach: init.newConnectionEach,
        shouldStop: () => Atomics.load(flags, STOP) !== 0,
        onResult: (r) => {
          batch.push(encodeResult(r));
          if (batch.length >= BATCH_RESULTS) flush();
          else timer ??= setTimeout(flush, BATCH_MS);
        },
        inFlight: { add: (n) => void Atomics.add(flags, IN_FLIGHT, n) },
        suspects: { sending: (r) => suspects?.sending(r), ended: (r) => suspects?.ended(r) },
      }).finally(flush);
    }
  });
  // The port's 'message' listener keeps this thread alive until it is terminated; the main thread's
  // side of it is unref'd, so it never keeps the process alive.
  port.postMessage({ t: 'ready', ms: Date.now() - init.createdAt } satisfies FromWorker);
}

if (parentPort && isReplayWorkerData(workerData)) serve(parentPort, workerData);
