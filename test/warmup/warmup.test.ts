import test from 'ava';
import { createReplayMarker } from '../../src/capture/replay-marker';
import { resolveOptions } from '../../src/config/resolve';
import { createLogger } from '../../src/log';
import type { HttpServer } from '../../src/readiness/app-listen';
import { WarmupState } from '../../src/readiness/state';
import { prepareWarmup } from '../../src/warmup/warmup';
import { profileOf } from '../helpers/profiles';
import { tempDir } from '../helpers/run';

// begin()'s catch is the warm-up's last line: a failure nothing else caught. No real condition is
// known to reach it any more (the last one, a process without SharedArrayBuffer, now makes the
// worker-thread replay fall back to the main thread: test/integration/readiness-faults.test.ts),
// so the failure here is INJECTED: begin() is given a server whose address() throws, the first
// thing the warm-up asks of it. The decision that follows is the agent's own code, unchanged.
for (const [onDeadline, ready] of [
  ['ready', true],
  ['fail', false],
] as const) {
  test(`[injected failure] an exception inside the warm-up ends it at once with the deadline's decision and one warning: ready ${ready} (PREHEAT_ON_DEADLINE=${onDeadline})`, async (t) => {
    const { options, problems } = resolveOptions({ mode: 'warm', dir: tempDir(), onDeadline, deadlineMs: 120_000 });
    t.deepEqual(problems, []);
    const state = new WarmupState(onDeadline === 'ready');
    const lines: string[] = [];
    const profile = profileOf([{ name: 'work', selfSamples: 90, share: 0.9 }], { requests: [{ method: 'GET', url: '/ok', headers: {}, count: 1 }] });
    const warmup = prepareWarmup({ profile, options, state, log: createLogger('warn', (l) => lines.push(l)), marker: createReplayMarker() });
    const server = {
      listening: true,
      address() {
        throw new Error('injected: address() failed');
      },
    } as unknown as HttpServer;
    t.notThrows(() => warmup.begin(server), 'nothing is thrown into the app');
    t.is(await state.whenSettled(), ready);
    const status = state.status();
    t.is(status.phase, 'stopped');
    t.is(status.reason, `warm-up failed: injected: address() failed; ${ready ? 'reporting ready anyway' : 'staying not ready'} (PREHEAT_ON_DEADLINE=${onDeadline})`);
    t.is(status.ready, ready);
    t.deepEqual(lines, ['preheat: warm-up failed: injected: address() failed [PREHEAT_W008]\n']);
  });
}
