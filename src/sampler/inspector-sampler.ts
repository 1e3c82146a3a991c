import * as inspector from 'node:inspector';
import type { CpuProfile } from '../profile/cpuprofile';
import type { Sampler } from './sampler';
import { titledSampler } from './titled';

/**
 * The fallback backend: V8's profiler through an in-process inspector session. An in-process
 * session dispatches synchronously, so `post` calls its callback before returning; `call` relies
 * on that to stay usable from an `exit` handler.
 *
 * Profiles are console profiles (`console.profile(title)` on the inspector's own console, which
 * the app's `console` cannot replace), not `Profiler.start`: the protocol has one frontend profile
 * per session, and stopping it stops V8's profiler, whose next start walks the heap to log every
 * function again (about 90 ms on the docs-shop fixture). Console profiles can overlap, so a
 * rotation starts the next one before it ends the current one, and V8's profiler never stops. The
 * session receives each ended profile as a `Profiler.consoleProfileFinished` event, synchronously
 * within `console.profileEnd` (on Node 20 to 26; test/sampler/rotation.test.ts).
 */
export function createInspectorSampler(intervalMicros: number): Sampler {
  const session = new inspector.Session();
  session.connect();
  const call = <T>(method: string, params?: object): T => {
    let error: Error | null = null;
    let result: T | undefined;
    let answered = false;
    session.post(method, params ?? {}, (err, res) => {
      answered = true;
      error = err;
      result = res as T;
    });
    if (!answered) throw new Error(`inspector did not answer ${method} synchronously`);
    if (error) throw error;
    return result as T;
  };
  call('Profiler.enable');
  call('Profiler.setSamplingInterval', { interval: intervalMicros });
  // Ended profiles by title, as the session delivers them. Another console profile (the app's
  // own console.profile) is not ours and is dropped.
  const ours = new Set<string>();
  const ended = new Map<string, CpuProfile>();
  session.on('Profiler.consoleProfileFinished', (message) => {
    const { title, profile } = message.params as { title?: string; profile: CpuProfile };
    if (title && ours.has(title)) ended.set(title, profile);
  });
  return titledSampler('inspector', {
    start(title) {
      ours.add(title);
      ended.delete(title);
      inspector.console.profile(title);
    },
    end(title) {
      inspector.console.profileEnd(title);
      const profile = ended.get(title) ?? null;
      ended.delete(title);
      return profile;
    },
    release() {
      try {
        call('Profiler.disable');
      } finally {
        session.disconnect();
      }
    },
  });
}
