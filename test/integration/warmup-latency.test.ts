import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WarmupProfile } from '../../src/profile/schema';
import { guest, guestProfile } from '../helpers/guest';
import { readJson, tempDir } from '../helpers/run';
import { bootService, freePort, get, pollStatus } from '../helpers/service';

// Readiness from measurement: the warm-up replays until the requests that carry most of the
// traffic answer close to the latency they had at steady state when recorded.

test('record mode stores each request\'s status and steady server-side latency', async (t) => {
  const dir = tempDir();
  const s = await bootService(guest, { PREHEAT_MODE: 'record', PREHEAT_DIR: dir, PREHEAT_STEADY_AFTER_MS: '0', GUEST_WORK_MS: '5' });
  for (let i = 0; i < 40; i++) await get(s.port, '/ok');
  for (let i = 0; i < 10; i++) await get(s.port, '/missing-thing');
  await s.stop();
  const own = fs.readdirSync(dir).find((n) => /^profile\.(?!base-).+\.json$/.test(n) && n !== 'profile.json')!;
  const requests = readJson<WarmupProfile>(path.join(dir, own)).requests!;
  const ok = requests.find((r) => r.url === '/ok')!;
  t.is(ok.status, 200);
  t.true(ok.latencyMs! >= 5 && ok.latencyMs! < 500, JSON.stringify(ok));
});

/** Warms the guest at 15 ms of CPU a request from `dir`; checks it got ready by the latency rule, well before the count rule would have. */
async function readyByLatency(t: ExecutionContext, dir: string) {
  const port = await freePort();
  const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PREHEAT_DEADLINE_MS: '120000', GUEST_WORK_MS: '15' });
  const status = await pollStatus(port, (x) => x.ready, 100_000);
  await s.stop();
  t.is(status.phase, 'ready', status.reason);
  t.is(status.rule, 'latency');
  t.true(status.replayed < 2000, `replayed ${status.replayed}`);
  return status;
}

test('a slow service gets ready by measurement, long before 2000 replays', async (t) => {
  // 15 ms of CPU per request: the count rule would need 2000 x 15 ms = 30 s.
  const dir = guestProfile([{ url: '/ok', count: 100, status: 200, latencyMs: 15 }]);
  const status = await readyByLatency(t, dir);
  t.regex(status.reason, /within 1\.2x their recorded steady latency/);
  const [ok] = status.latency;
  t.is(ok.request, 'GET /ok');
  t.is(ok.recordedMs, 15);
  t.true(ok.within && ok.currentMs <= 15 * 1.2 + 0.05, JSON.stringify(ok));
});

test('traffic spread over many ids is judged by route: a slow service with an id per request gets ready by measurement too', async (t) => {
  // 300 products, none more than 1% of the traffic: judged one by one, no few of them carry it.
  const dir = guestProfile([
    ...Array.from({ length: 300 }, (_, i) => ({ url: `/product/${i}`, count: 3, status: 200, latencyMs: 15 })),
    { url: '/about', count: 10, status: 200, latencyMs: 15 },
  ]);
  const status = await readyByLatency(t, dir);
  t.deepEqual(
    status.latency.map((l: { request: string }) => l.request),
    ['GET /product/:id'],
  );
  t.true(status.latency[0].within, JSON.stringify(status.latency));
});

test('a service that never reaches its recorded latency ends at the deadline, and /status shows why', async (t) => {
  const dir = guestProfile([{ url: '/ok', count: 100, status: 200, latencyMs: 0.001 }]);
  const port = await freePort();
  const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PREHEAT_DEADLINE_MS: '8000', GUEST_WORK_MS: '3' });
  // Long enough for the heap scan and some replays on a loaded machine (3 s were not, once).
  const status = await pollStatus(port, (x) => x.phase === 'deadline', 100_000);
  await s.stop();
  t.is(status.phase, 'deadline');
  t.is(status.rule, 'latency');
  t.false(status.latency[0].within);
  t.true(status.latency[0].currentMs >= 3, JSON.stringify(status.latency));
});

test('a profile without latencies keeps the count rule', async (t) => {
  const port = await freePort();
  const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: guestProfile([{ url: '/ok' }]), PREHEAT_PORT: String(port), PREHEAT_DEADLINE_MS: '120000' });
  const status = await pollStatus(port, (x) => x.ready, 100_000);
  await s.stop();
  t.is(status.rule, 'count');
  t.deepEqual(status.latency, []);
  t.true(status.replayed >= 2000, status.reason);
});
