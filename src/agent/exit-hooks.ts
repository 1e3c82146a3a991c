/**
 * Runs `checkpoint` or `finish` on SIGTERM, SIGINT and SIGHUP and `finish` at exit, without
 * changing how the process ends: the run without preheat is the rule (docs/signals.md).
 *  - When the app listens to the signal, the app decides: we only checkpoint and keep listening.
 *  - Otherwise we finish, remove our listeners and let the signal do what it would have done
 *    without us: raise it again (death by that signal), or hand it to signal-exit, which only acts
 *    when it believes it is the signal's only listener.
 *  - A signal that arrives during the app's last synchronous stretch reaches our listener only if
 *    the event loop turns once more: see `onBeforeExit`.
 * `finish` runs on every 'exit', including process.exit() and uncaught exceptions. `signal`, when
 * given, runs first on each of those signals, whoever decides what follows: a signal comes from
 * outside, so what ends the process next is not the agent's doing (the warm-up's crash marker).
 */
export function installExitHooks(hooks: { checkpoint(): void; finish(): void; signal?(): void }): () => void {
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
  const listeners = new Map<NodeJS.Signals, () => void>();
  /** A turn of the loop we asked for at 'beforeExit' and that has not yet led to the next one. */
  let draining = false;

  const remove = () => {
    for (const [sig, fn] of listeners) process.removeListener(sig, fn);
    listeners.clear();
    process.removeListener('exit', onExit);
    process.removeListener('beforeExit', onBeforeExit);
  };
  const onExit = () => {
    remove();
    hooks.finish();
  };

  /**
   * Node dispatches a signal caught while JavaScript runs only when the loop next polls. After the
   * app's last piece of work the loop polls no more: the signal is dropped and the process exits 0,
   * where without us (no listener, default action) it would have died by the signal at once. One
   * more turn (an immediate) polls and delivers it; with none pending, that turn does nothing.
   * Only when that turn cannot be seen: no other 'beforeExit' listener would be called a second
   * time, and the signal has no listener but ours (with another listener it would be dropped
   * without us too).
   */
  const onBeforeExit = () => {
    if (draining) {
      draining = false;
      return;
    }
    if (process.listenerCount('beforeExit') > 1) return;
    if (!signals.some((sig) => process.listeners(sig).length === 1 && process.listeners(sig)[0] === listeners.get(sig))) return;
    draining = true;
    setImmediate(() => {});
  };

  for (const sig of signals) {
    const fn = () => {
      hooks.signal?.();
      const all = process.listeners(sig);
      const others = all.length - 1 - signalExitCount();
      if (others > 0) {
        hooks.checkpoint();
        return;
      }
      // Everything but us is signal-exit (or nothing). Listeners before us have already run in this
      // emit and stood back because they saw us; those after us run next and see the process as
      // it would be without us.
      const before = all.slice(0, Math.max(0, all.indexOf(fn)));
      remove();
      hooks.finish();
      if (all.length === 1) {
        process.kill(process.pid, sig);
        return;
      }
      // Give the ones before us the turn they would have had without us. (An error of theirs is
      // theirs, as it would have been without us.)
      for (const listener of before) Reflect.apply(listener, process, [sig]);
    };
    listeners.set(sig, fn);
    process.on(sig, fn);
  }
  process.on('exit', onExit);
  process.on('beforeExit', onBeforeExit);
  return remove;
}

/**
 * How many signal-exit instances listen to every signal. signal-exit (v3 and v4, both common in
 * apps through execa, ora, write-file-atomic, nyc) re-raises a signal only when the signal's
 * listener count equals its own count, so it stands back while we listen, as we would for an
 * app listener: each side must count the other's listeners as not the app's. v3 keeps its count
 * on `process.__signal_exit_emitter__`, v4 under `Symbol.for('signal-exit emitter')` (v4 adds
 * v3's count to its own, v3 knows nothing of v4).
 */
function signalExitCount(): number {
  const count = (emitter: unknown) => {
    const n = (emitter as { count?: unknown } | null | undefined)?.count;
    return typeof n === 'number' && n > 0 ? n : 0;
  };
  const v3 = (process as unknown as { __signal_exit_emitter__?: unknown }).__signal_exit_emitter__;
  const v4 = (globalThis as Record<symbol, unknown>)[Symbol.for('signal-exit emitter')];
  return count(v3) + count(v4);
}
