import { Session } from 'node:inspector';
import type { CpuProfile } from '../profile/cpuprofile';
import type { Sampler } from './sampler';

/**
 * The fallback backend: V8's profiler through an in-process inspector session. An in-process
 * session dispatches synchronously, so `post` calls its callback before returning; `call` relies
 * on that to stay usable from an `exit` handler.
 */
export function createInspectorSampler(intervalMicros: number): Sampler {
  const session = new Session();
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
  let running = false;

  return {
    kind: 'inspector',
    start() {
      call('Profiler.start');
      running = true;
    },
    stop() {
      if (!running) return null;
      running = false;
      return call<{ profile: CpuProfile }>('Profiler.stop').profile;
    },
    dispose() {
      try {
        if (running) call('Profiler.stop');
        call('Profiler.disable');
      } finally {
        running = false;
        session.disconnect();
      }
    },
  };
}
