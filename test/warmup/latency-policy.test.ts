import test from 'ava';
import type { RecordedRequest } from '../../src/profile/schema';
import { LatencyPolicy } from '../../src/warmup/latency-policy';

const req = (url: string, count: number, latencyMs?: number, status = 200): RecordedRequest => ({
  method: 'GET',
  url,
  headers: {},
  count,
  status,
  ...(latencyMs === undefined ? {} : { latencyMs }),
});

/** Feeds `n` replays of `url` at `ms` with `status`. */
function feed(p: LatencyPolicy, url: string, ms: number, n = 5, status = 200) {
  for (let i = 0; i < n; i++) p.observe({ key: `GET ${url}`, status, latencyMs: ms });
}

test('the judged requests are the most frequent ones, until they carry 80% of the traffic', (t) => {
  const p = new LatencyPolicy([req('/a', 50, 2), req('/b', 30, 4), req('/c', 15, 1), req('/d', 5, 1)], { ratio: 1.2 });
  t.true(p.usable);
  t.deepEqual(p.table().map((k) => k.request), ['GET /a', 'GET /b']);
  t.deepEqual(p.table().map((k) => k.share), [0.5, 0.3]);
});

test('without latencies for most of the traffic, the policy is not usable (the count rule applies)', (t) => {
  t.false(new LatencyPolicy([req('/a', 50), req('/b', 30)], { ratio: 1.2 }).usable);
  t.false(new LatencyPolicy([req('/a', 90), req('/b', 10, 3)], { ratio: 1.2 }).usable, 'a tenth of the traffic is not enough to judge by');
  t.false(new LatencyPolicy([], { ratio: 1.2 }).usable);
});

test('ready only after the judged requests stay within the ratio for three rounds in a row', (t) => {
  const p = new LatencyPolicy([req('/a', 60, 2), req('/b', 40, 4)], { ratio: 1.2 });
  feed(p, '/a', 10);
  feed(p, '/b', 20);
  t.false(p.endRound(), 'cold: 5x slower');
  feed(p, '/a', 2.1, 9);
  feed(p, '/b', 4.2, 9);
  t.false(p.endRound());
  feed(p, '/a', 2.1);
  feed(p, '/b', 4.2);
  t.false(p.endRound());
  t.false(p.endRound(), 'a round without a new measurement does not count');
  feed(p, '/b', 4.2);
  t.true(p.endRound());
  t.true(p.table().every((k) => k.within));
});

test('one request out of the ratio resets the streak', (t) => {
  const p = new LatencyPolicy([req('/a', 60, 2), req('/b', 40, 4)], { ratio: 1.2 });
  feed(p, '/a', 2, 9);
  feed(p, '/b', 4, 9);
  t.false(p.endRound());
  t.false((feed(p, '/b', 40, 9), p.endRound()), '/b slowed down: a deopt');
  feed(p, '/b', 4, 9);
  t.false(p.endRound());
  feed(p, '/b', 4);
  t.false(p.endRound());
  feed(p, '/b', 4);
  t.true(p.endRound());
});

test('only replays answered with the recorded status class count: a fast 404 is not warm', (t) => {
  const p = new LatencyPolicy([req('/a', 100, 5)], { ratio: 1.2 });
  for (let round = 0; round < 5; round++) {
    feed(p, '/a', 0.1, 9, 404);
    t.false(p.endRound());
  }
  const [a] = p.table();
  t.is(a!.samples, 0);
  t.is(a!.mismatched, 45);
  t.is(a!.currentMs, null);
});
