import type { Worker } from 'node:cluster';
import type { Status, WarmupState } from './state';

/**
 * `node:cluster`: with the agent preloaded, the primary and every worker run it. The primary owns
 * the readiness server (a worker would clash on PREHEAT_PORT) and answers `/ready` from the
 * workers' states; each worker warms itself and reports its state to the primary.
 *
 * The reports travel over the cluster's IPC channel as messages whose `cmd` starts with `NODE_`:
 * Node delivers those as `'internalMessage'`, never as `'message'`, so neither `worker.on('message')`
 * nor `cluster.on('message')` nor the worker's `process.on('message')` of the app ever sees them
 * (child_process's internal-message rule, the same path cluster's own `NODE_CLUSTER` messages take;
 * checked on Node 20, 22, 24 and 26). Listening for `'internalMessage'` does not ref the channel.
 */
const STATE_CMD = 'NODE_PREHEAT_STATE';
const MARKER_CMD = 'NODE_PREHEAT_MARKER';
/** A worker sends its state at most this often while warming, and once more when it settles. */
const REPORT_EVERY_MS = 200;

/* eslint-disable @typescript-eslint/no-require-imports */
const cluster = () => require('node:cluster') as typeof import('node:cluster').default;
/* eslint-enable @typescript-eslint/no-require-imports */

export function isClusterWorker(): boolean {
  return cluster().isWorker;
}

interface StateMessage {
  cmd: typeof STATE_CMD;
  status: Status;
}

/** Worker side: reports the warm-up state to the primary; adopts the primary's replay marker. Returns a stop function. */
export function reportToPrimary(state: WarmupState, onMarker: (value: string) => void): () => void {
  const onInternal = (m: unknown) => {
    try {
      const msg = m as { cmd?: unknown; value?: unknown };
      if (msg?.cmd === MARKER_CMD && typeof msg.value === 'string') onMarker(msg.value);
    } catch {
      // The app's IPC goes on whatever preheat thinks of a message.
    }
  };
  process.on('internalMessage' as 'message', onInternal);
  let last = '';
  const send = () => {
    try {
      const status = state.status();
      const key = JSON.stringify([status.phase, status.ready, status.replayed, status.optimized, status.errors]);
      if (key === last || !process.send || !process.connected) return;
      last = key;
      const msg: StateMessage = { cmd: STATE_CMD, status };
      // With a callback, a failed send (the primary gone) is reported there, not as an 'error' event.
      process.send(msg, undefined, {}, () => {});
    } catch {
      // Not reported: the primary's limit for this worker decides.
    }
  };
  send();
  const timer = setInterval(send, REPORT_EVERY_MS);
  timer.unref();
  void state.whenSettled().then(() => {
    send();
    clearInterval(timer);
  });
  return () => {
    clearInterval(timer);
    process.removeListener('internalMessage' as 'message', onInternal);
  };
}

interface WorkerEntry {
  pid: number | undefined;
  status: Status | null;
  /** The worker never settled within the limit: counted as the deadline decides. */
  expired: boolean;
  timer: NodeJS.Timeout;
}

export interface ClusterStatus extends Status {
  /** One entry per live worker: its pid and its own state (null until it first reported). */
  workers: { id: number; pid: number | undefined; phase: Status['phase'] | null; ready: boolean; reason: string }[];
}

/**
 * Primary side: what `/ready` and `/status` answer. Before the first fork, the primary's own state
 * (a process that never forks is no cluster). Once a worker was forked: ready when at least one
 * worker is alive and every live worker is ready. A worker that dies is dropped at once; one that
 * never reports a settled state is counted as its deadline would decide after `limitMs` from its
 * fork, so no worker can pin `/ready` at 503.
 */
export class ClusterReadiness {
  private readonly workers = new Map<number, WorkerEntry>();
  private forked = false;

  constructor(
    private readonly own: WarmupState,
    private readonly marker: string,
    private readonly limitMs: number,
    private readonly deadlineIsReady: boolean,
  ) {
    const c = cluster();
    c.on('fork', (w) => this.add(w));
    c.on('exit', (w) => this.remove(w));
  }

  get ready(): boolean {
    if (!this.forked) return this.own.ready;
    if (this.workers.size === 0) return false;
    for (const w of this.workers.values()) if (!this.workerReady(w)) return false;
    return true;
  }

  status(): Status | ClusterStatus {
    const own = this.own.status();
    if (!this.forked) return own;
    const workers = [...this.workers.entries()].map(([id, w]) => ({
      id,
      pid: w.pid,
      phase: w.status?.phase ?? null,
      ready: this.workerReady(w),
      reason: w.expired ? `no settled state within ${this.limitMs} ms of its fork` : (w.status?.reason ?? 'not reported yet'),
    }));
    const sum = (k: 'replayed' | 'errors' | 'optimized' | 'skipped' | 'stale') => [...this.workers.values()].reduce((n, w) => n + (w.status?.[k] ?? 0), 0);
    const ready = this.ready;
    const waiting = workers.find((w) => !w.ready);
    return {
      ...own,
      phase: ready ? 'ready' : (waiting?.phase ?? 'waiting-for-server'),
      ready,
      replayed: sum('replayed'),
      errors: sum('errors'),
      optimized: sum('optimized'),
      skipped: sum('skipped'),
      stale: sum('stale'),
      reason: ready
        ? `all ${workers.length} live cluster workers are ready`
        : workers.length === 0
          ? 'no live cluster worker'
          : `cluster worker ${waiting!.pid ?? waiting!.id} is not ready: ${waiting!.reason}`,
      workers,
    };
  }

  private workerReady(w: WorkerEntry): boolean {
    if (w.status?.ready) return true;
    const settled = w.status && ['ready', 'deadline', 'stopped'].includes(w.status.phase);
    return !settled && w.expired && this.deadlineIsReady;
  }

  private add(worker: Worker): void {
    try {
      this.forked = true;
      const timer = setTimeout(() => {
        const e = this.workers.get(worker.id);
        if (e) e.expired = true;
      }, this.limitMs);
      timer.unref();
      const entry: WorkerEntry = { pid: worker.process.pid, status: null, expired: false, timer };
      this.workers.set(worker.id, entry);
      worker.process.on('internalMessage' as 'message', (m: unknown) => {
        try {
          const msg = m as Partial<StateMessage>;
          if (msg?.cmd === STATE_CMD && msg.status && typeof msg.status === 'object') entry.status = msg.status;
        } catch {
          // ignored, as in the worker
        }
      });
      // The same marker in every worker: a sibling's replay is recognised as replay.
      if (worker.process.connected) worker.process.send({ cmd: MARKER_CMD, value: this.marker }, undefined, {}, () => {});
    } catch {
      // A worker preheat cannot follow is one the limit decides for.
    }
  }

  private remove(worker: Worker): void {
    const e = this.workers.get(worker.id);
    if (e) clearTimeout(e.timer);
    this.workers.delete(worker.id);
  }
}
