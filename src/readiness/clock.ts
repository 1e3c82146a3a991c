import type { WarmupState } from './state';

export interface ReadinessClock {
  /** The server being warmed listens: the deadline starts now. */
  listened(): void;
  stop(): void;
}

/**
 * The two limits that decide readiness when nothing else does, so that it can never stay stuck:
 * `deadlineMs` from the listen of the server being warmed (a slow boot does not eat the warm-up's
 * time, and `/ready` never says 200 before the app listens), and `startLimitMs` from the agent's
 * start for an app that never listens. Both timers are unref'd.
 */
export function startReadinessClock(state: WarmupState, limits: { deadlineMs: number; startLimitMs: number }): ReadinessClock {
  let deadline: NodeJS.Timeout | null = null;
  const startLimit = setTimeout(() => {
    if (!state.listened) state.expire(`the app did not listen within ${limits.startLimitMs} ms of its start (PREHEAT_START_LIMIT_MS)`);
  }, limits.startLimitMs);
  startLimit.unref();
  return {
    listened() {
      if (deadline) return;
      clearTimeout(startLimit);
      state.markListened();
      deadline = setTimeout(() => {
        const s = state.status();
        state.expire(`deadline of ${limits.deadlineMs} ms passed since the app listened, with ${s.optimized} of ${s.hot} hot functions optimized and ${s.replayed} requests replayed`);
      }, limits.deadlineMs);
      deadline.unref();
    },
    stop() {
      clearTimeout(startLimit);
      if (deadline) clearTimeout(deadline);
    },
  };
}
