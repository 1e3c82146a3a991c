import test from 'ava';
import type { RecordedRequest } from '../../src/profile/schema';
import { LatencyPolicy } from '../../src/warmup/latency-policy';
import { routeShape } from '../../src/warmup/route-shape';

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

test('traffic spread over many targets of a few routes is judged by route, each replay against its own recorded latency', (t) => {
  // 200 products and 100 search terms, none more than 1% of the traffic: by request, nothing to judge.
  const recorded = [
    ...Array.from({ length: 200 }, (_, i) => req(`/products/${i}?_embed=reviews`, 2, i % 2 ? 4 : 2)),
    ...Array.from({ length: 100 }, (_, i) => req(`/search?q=term${i}&limit=10`, 2, 1)),
    req('/about', 4, 1),
  ];
  const p = new LatencyPolicy(recorded, { ratio: 1.2 });
  t.true(p.usable);
  t.deepEqual(
    p.table().map((r) => [r.request, r.share, r.recordedMs]),
    [
      ['GET /products/:id?_embed', 0.662, 3],
      ['GET /search?limit&q', 0.331, 1],
    ],
  );
  // Each product at its own recorded latency (2 or 4 ms): within, though half of them run at 4 ms
  // against the route's 3 ms average.
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 10; i++) p.observe({ key: `GET /products/${i}?_embed=reviews`, status: 200, latencyMs: i % 2 ? 4.1 : 2.1 });
    feed(p, '/search?q=term1&limit=10', 1.1, 3);
    t.is(p.endRound(), round === 2, `round ${round}`);
  }
  // Twice its own recorded latency is not within, whatever the route's average.
  const slow = new LatencyPolicy(recorded, { ratio: 1.2 });
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 10; i += 2) slow.observe({ key: `GET /products/${i}?_embed=reviews`, status: 200, latencyMs: 4 });
    feed(slow, '/search?q=term1&limit=10', 1, 3);
    t.false(slow.endRound());
  }
  t.false(slow.table()[0]!.within);
});

test('a route shape keeps the path words and the query names, and takes out ids and values', (t) => {
  t.is(routeShape('GET', '/products/17?_embed=reviews'), 'GET /products/:id?_embed');
  t.is(routeShape('GET', '/users/3f2b8c1e-9a7d-4e2b-8c1e-9a7d4e2b8c1e/orders/99'), 'GET /users/:id/orders/:id');
  t.is(routeShape('GET', '/files/5f3a9c2e7b1d4a6f'), 'GET /files/:id');
  t.is(routeShape('POST', '/search?q=red&limit=10&q=blue'), 'POST /search?limit&q');
  // Words, slugs and versions are routes of their own.
  t.is(routeShape('GET', '/v2/blog/how-to-bake-bread'), 'GET /v2/blog/how-to-bake-bread');
  t.is(routeShape('GET', '/'), 'GET /');
});
