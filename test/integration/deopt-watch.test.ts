import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Status } from '../../src/readiness/state';
import type { WarmupProfile } from '../../src/profile/schema';
import { fixture, readJson, tempDir } from '../helpers/run';
import { bootService, freePort, get, pollStatus } from '../helpers/service';

const shapes = fixture('services', 'shapes', 'server.js');
const patient = { PREHEAT_DEADLINE_MS: '120000' };

/** Records /price with integers only: the profile's replay feeds `total` small integers. */
async function recordIntegers(appPort: number): Promise<string> {
  const dir = tempDir();
  const s = await bootService(shapes, { PREHEAT_MODE: 'record', PREHEAT_DIR: dir, PORT: String(appPort) });
  for (let i = 0; i < 400; i++) await get(s.port, `/price?x=${i % 50}`);
  await s.stop();
  return dir;
}

async function statusOf(port: number): Promise<Status> {
  return JSON.parse((await get(port, '/status')).body) as Status;
}

test('a hot function real traffic deoptimizes after ready is shown in /status, marked in the next recording, and not forced by the next warm-up', async (t) => {
  const appPort = await freePort();
  const dir = await recordIntegers(appPort);
  const port = await freePort();
  const auto = await bootService(shapes, { PREHEAT_MODE: 'auto', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PORT: String(appPort), ...patient });
  const ready = await pollStatus(port, (x) => x.ready, 100_000);
  t.is(ready.phase, 'ready', ready.reason);
  t.true(ready.optimized > 0, JSON.stringify(ready));
  t.true(ready.watching);
  t.deepEqual(ready.deoptimized, []);
  // More integers change nothing; the first doubles take `total`'s integer-only code away. One call
  // each, too few for V8 to optimize it again before the watch looks.
  for (let i = 0; i < 20; i++) await get(auto.port, `/price?x=${i}`);
  await new Promise((r) => setTimeout(r, 600));
  const calm = await statusOf(port);
  for (let i = 0; i < 3; i++) await get(auto.port, `/price?x=${i}.5&n=1`);
  await new Promise((r) => setTimeout(r, 800));
  const after = await statusOf(port);
  await auto.stop();
  t.deepEqual(calm.deoptimized, [], 'integers alone deoptimize nothing');
  // `total`, or the handler it is inlined into (the code that ran, then, is the handler's).
  t.true(after.deoptimized.length >= 1, JSON.stringify(after));
  const lines = new Map([[9, 'total'], [16, 'the handler']]);
  for (const d of after.deoptimized) {
    t.is(d.file, 'server.js');
    t.true(lines.has(d.line), JSON.stringify(d));
    t.true(d.times >= 1);
  }

  // The auto boot's own recording marks them, and nothing else.
  const own = fs
    .readdirSync(dir)
    .filter((n) => /^profile\.(?!base-).+\.json$/.test(n) && n !== 'profile.json')
    .map((n) => readJson<WarmupProfile>(path.join(dir, n)))
    .sort((a, b) => a.generation - b.generation);
  t.deepEqual(own.map((p) => p.generation), [1, 2], 'the recording boot and the auto boot');
  t.deepEqual(own[0]!.hotFunctions.filter((f) => f.deopts), []);
  const marked = own[1]!.hotFunctions.filter((f) => f.deopts);
  const byLine = (a: [string, number, number | undefined], b: [string, number, number | undefined]) => a[1] - b[1];
  t.deepEqual(
    marked.map((f): [string, number, number | undefined] => [f.file, f.line, f.deopts]).sort(byLine),
    after.deoptimized.map((d): [string, number, number | undefined] => [d.file, d.line, d.times]).sort(byLine),
  );

  // The next warm-up leaves it to V8: not forced, not waited for.
  const warm = await bootService(shapes, { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PORT: String(appPort), ...patient });
  const next = await pollStatus(port, (x) => x.ready, 100_000);
  await warm.stop();
  t.is(next.phase, 'ready', next.reason);
  t.is(next.unforced, marked.length, JSON.stringify(next));
  t.regex(next.reason, new RegExp(`${marked.length} left to V8 as real traffic deoptimized them after an earlier warm-up`));
});

test('PREHEAT_WATCH_MS=0 turns the watch off; it ends by itself after PREHEAT_WATCH_MS', async (t) => {
  const appPort = await freePort();
  const dir = await recordIntegers(appPort);
  for (const [watchMs, expectWatching] of [['0', false], ['300', false]] as const) {
    const port = await freePort();
    const s = await bootService(shapes, { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PORT: String(appPort), PREHEAT_WATCH_MS: watchMs, ...patient });
    const ready = await pollStatus(port, (x) => x.ready, 100_000);
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 3; i++) await get(s.port, `/price?x=${i}.5&n=1`);
    await new Promise((r) => setTimeout(r, 600));
    const after = await statusOf(port);
    await s.stop();
    t.is(ready.watching, watchMs !== '0', `PREHEAT_WATCH_MS=${watchMs}`);
    t.is(after.watching, expectWatching, `PREHEAT_WATCH_MS=${watchMs}`);
    t.deepEqual(after.deoptimized, [], `PREHEAT_WATCH_MS=${watchMs}: nothing watched when the doubles came`);
  }
});
