/**
 * Runs `checkpoint` on SIGTERM and SIGINT and `finish` at exit, without changing what the app does
 * with those signals or its exit code:
 *  - our signal listener never stops a signal on its own: when it is the only listener (the app
 *    has none), it removes itself and raises the signal again, so the default action (death by
 *    that signal) happens exactly as without preheat;
 *  - when the app listens too, the app decides, as it would without us.
 * `finish` runs on every 'exit', including process.exit() and uncaught exceptions.
 */
export function installExitHooks(hooks: { checkpoint(): void; finish(): void }): () => void {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const listeners = new Map<NodeJS.Signals, () => void>();

  const remove = () => {
    for (const [sig, fn] of listeners) process.removeListener(sig, fn);
    listeners.clear();
    process.removeListener('exit', onExit);
  };
  const onExit = () => {
    remove();
    hooks.finish();
  };

  for (const sig of signals) {
    const fn = () => {
      if (process.listenerCount(sig) > 1) {
        hooks.checkpoint();
        return;
      }
      remove();
      hooks.finish();
      process.kill(process.pid, sig);
    };
    listeners.set(sig, fn);
    process.on(sig, fn);
  }
  process.on('exit', onExit);
  return remove;
}
