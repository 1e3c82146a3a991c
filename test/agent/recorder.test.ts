import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Recorder } from '../../src/agent/recorder';
import { defaults, type Options } from '../../src/config/options';
import { createLogger } from '../../src/log';
import type { CpuProfile } from '../../src/profile/cpuprofile';
import type { Sampler } from '../../src/sampler/sampler';
import { tempDir } from '../helpers/run';

/**
 * A sampler that hands out one synthetic profile per window: `hot` in the app's own file, with
 * as many samples as the window's number (so each window's samples can be told apart), and
 * counts what the recorder asked of it.
 */
function fakeSampler(root: string) {
  const calls = { start: 0, stop: 0, rotate: 0, beginRotation: 0 };
  let running = false;
  let window = 0;
  const url = pathToFileURL(path.join(root, 'app.js')).href;
  const profile = (): CpuProfile => {
    window++;
    return {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, hitCount: 0, children: [2] },
        { id: 2, callFrame: { functionName: 'hot', scriptId: '1', url, lineNumber: 0, columnNumber: 12 }, hitCount: window },
      ],
      startTime: window * 1000,
      endTime: window * 1000 + 999,
      samples: Array.from({ length: window }, () => 2),
      timeDeltas: Array.from({ length: window }, () => 1),
    };
  };
  const sampler: Sampler = {
    kind: 'native',
    start() {
      calls.start++;
      running = true;
    },
    stop() {
      calls.stop++;
      if (!running) return null;
      running = false;
      return profile();
    },
    beginRotation() {
      calls.beginRotation++;
    },
    rotate() {
      calls.rotate++;
      return running ? profile() : null;
    },
    dispose() {
      running = false;
    },
  };
  return { sampler, calls, windows: () => window };
}

function setup(overrides: Partial<Options>) {
  const root = tempDir();
  fs.writeFileSync(path.join(root, 'app.js'), 'function hot() { return 1; }\n');
  const dir = path.join(root, '.preheat');
  const options: Options = { ...defaults, root, dir, profileDir: dir, maxRequests: 0, ...overrides };
  const fake = fakeSampler(root);
  const recorder = new Recorder(fake.sampler, options, createLogger('silent'), '0.0.0-test');
  const files = () => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);
  const cpuprofiles = () => files().filter((f) => f.endsWith('.cpuprofile'));
  const own = () => files().find((f) => /^profile\..+\.json$/.test(f));
  const busy = () => {
    const file = own();
    return file ? (JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { samples: { busy: number } }).samples.busy : 0;
  };
  return { recorder, ...fake, dir, files, cpuprofiles, own, busy };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The sum 1 + 2 + … + n: every window's samples, each counted once. */
const triangle = (n: number) => (n * (n + 1)) / 2;

/** Polls `pred` until it holds or `ms` pass (a loaded machine delays timers by hundreds of ms). */
async function until(pred: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}

test('continuous recording starts the sampler once and rotates it at every window, writing in the background', async (t) => {
  const s = setup({ windowMs: 100, periodMs: 100 });
  s.recorder.start();
  t.is(s.calls.start, 1);
  t.is(s.calls.rotate, 0, 'nothing before the first window ends');
  t.is(s.own(), undefined);
  t.true(await until(() => s.calls.rotate >= 3), `${s.calls.rotate} rotations`);
  t.is(s.calls.start, 1, 'never started again');
  t.is(s.calls.stop, 0, 'never stopped');
  t.true(s.calls.beginRotation - s.calls.rotate <= 1, 'each rotation begun ahead of its end');
  // Every rotated window is written while the app runs, its .cpuprofile and the profile with it;
  // the newest may still be on its way, every earlier one is in, once.
  t.true(
    await until(() => s.windows() >= 3 && [triangle(s.windows()), triangle(s.windows() - 1)].includes(s.busy())),
    `${s.busy()} samples after ${s.windows()} windows`,
  );
  t.true(s.cpuprofiles().length >= 2);
  s.recorder.finish();
  t.is(s.calls.stop, 1);
  t.is(s.busy(), triangle(s.windows()), 'the last window too, written at once by finish');
  t.is(s.cpuprofiles().length, s.windows());
  const rotations = s.calls.rotate;
  await sleep(250);
  t.is(s.calls.rotate, rotations, 'no timer left after finish');
});

test('a checkpoint (a signal the app handles) rotates and writes before it returns; sampling goes on', async (t) => {
  const s = setup({ windowMs: 10_000, periodMs: 10_000 });
  s.recorder.start();
  s.recorder.checkpoint();
  t.is(s.calls.rotate, 1);
  t.is(s.calls.stop, 0);
  t.truthy(s.own(), 'written synchronously');
  t.is(s.busy(), 1);
  t.is(s.cpuprofiles().length, 1);
  s.recorder.checkpoint();
  t.is(s.busy(), 3);
  s.recorder.finish();
  t.is(s.busy(), 6);
  t.is(s.calls.start, 1);
});

test('a synchronous write during a background flush takes it over: nothing lost, nothing twice', async (t) => {
  const s = setup({ windowMs: 80, periodMs: 80 });
  s.recorder.start();
  // Wait for the first scheduled rotation, then write at once before its steps have all run.
  while (s.calls.rotate === 0) await new Promise((r) => setImmediate(r));
  s.recorder.checkpoint();
  t.is(s.busy(), triangle(s.windows()));
  const written = s.cpuprofiles().length;
  t.is(written, s.windows(), 'one .cpuprofile per window');
  await sleep(30);
  t.is(s.cpuprofiles().length, written, 'the superseded flush wrote nothing more');
  s.recorder.finish();
  t.is(s.busy(), triangle(s.windows()));
  t.is(s.cpuprofiles().length, s.windows());
});

test('a window shorter than its period stops and starts the sampler (the duty cycle of earlier versions)', async (t) => {
  const s = setup({ windowMs: 60, periodMs: 150 });
  s.recorder.start();
  t.true(await until(() => s.calls.stop >= 2), `${s.calls.stop} stops`);
  t.true(s.calls.start >= s.calls.stop, `${s.calls.start} starts`);
  t.is(s.calls.rotate, 0);
  s.recorder.finish();
  t.is(s.busy(), triangle(s.windows()));
});

test('pause ends the window and writes; resume starts sampling again', async (t) => {
  const s = setup({ windowMs: 10_000, periodMs: 10_000 });
  s.recorder.start();
  s.recorder.pause();
  t.is(s.calls.stop, 1);
  t.is(s.busy(), 1);
  s.recorder.resume();
  t.is(s.calls.start, 2);
  s.recorder.finish();
  t.is(s.busy(), 3);
});
