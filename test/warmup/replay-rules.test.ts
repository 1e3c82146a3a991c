import test from 'ava';
import type { RecordedRequest } from '../../src/profile/schema';
import { globMatcher } from '../../src/warmup/path-globs';
import { forMainPort, loopbackTarget, recordedPort, screenRequests, unsampledTraceparent } from '../../src/warmup/replay';

test('path globs: * within a segment, ** across segments, the rest literal', (t) => {
  const m = globMatcher(['/checkout/**', '/users/*/avatar', '/v?/ping', '/a.b']);
  t.true(m('/checkout/pay'));
  t.true(m('/checkout/cart/items/3'));
  t.true(m('/users/42/avatar'));
  t.false(m('/users/42/x/avatar'));
  t.true(m('/v1/ping'));
  t.false(m('/v10/ping'));
  t.true(m('/a.b'));
  t.false(m('/aXb'), 'a dot is a dot');
  t.true(globMatcher(['/api/**/users'])('/api/users'));
  t.true(globMatcher(['/api/**/users'])('/api/v1/org/users'));
  t.false(globMatcher([])('/anything'));
});

const req = (url: string, over: Partial<RecordedRequest> = {}): RecordedRequest => ({ method: 'GET', url, headers: {}, count: 1, ...over });
const rules = { methods: ['GET'], maxBodyBytes: 100, maxRequests: 100 };

test('PREHEAT_REPLAY_PATHS keeps only matching paths, PREHEAT_SKIP_PATHS drops matching ones, the query aside', (t) => {
  const requests = [req('/api/items?page=2'), req('/api/checkout/pay'), req('/health'), req('/webhooks/stripe')];
  const only = screenRequests(requests, { ...rules, replayPaths: ['/api/**'] });
  t.deepEqual(only.kept.map((r) => r.url), ['/api/items?page=2', '/api/checkout/pay']);
  t.is(only.skipped.excluded, 2);
  const skip = screenRequests(requests, { ...rules, replayPaths: ['/api/**'], skipPaths: ['/api/checkout/**'] });
  t.deepEqual(skip.kept.map((r) => r.url), ['/api/items?page=2']);
  t.deepEqual(screenRequests(requests, { ...rules, skipPaths: ['/webhooks/*'] }).kept.length, 3);
});

test('the screen keeps what the latency rule needs and drops headers outside the allow-list', (t) => {
  const [r] = screenRequests([req('/x', { status: 200, latencyMs: 3, headers: { accept: 'a', 'accept-encoding': 'gzip', authorization: 'Bearer x', host: 'evil' } })], rules).kept;
  t.deepEqual(r, { method: 'GET', url: '/x', headers: { accept: 'a', 'accept-encoding': 'gzip' }, count: 1, status: 200, latencyMs: 3 });
});

test('replayed requests carry a W3C traceparent that is not sampled, new for each request', (t) => {
  const a = unsampledTraceparent();
  t.regex(a, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  t.not(a, unsampledTraceparent());
});

test('replay goes to the loopback address the server is bound to, never elsewhere', (t) => {
  const at = (address: string, family = 'IPv4') => loopbackTarget({ address, family, port: 8080 })?.host ?? null;
  t.is(at('0.0.0.0'), '127.0.0.1');
  t.is(at('::', 'IPv6'), '127.0.0.1');
  t.is(at('127.0.0.1'), '127.0.0.1');
  t.is(at('127.0.0.2'), '127.0.0.2', 'a server bound to 127.0.0.2 does not answer on 127.0.0.1');
  t.is(at('::ffff:127.0.0.3', 'IPv6'), '127.0.0.3');
  t.is(at('::1', 'IPv6'), '::1');
  t.is(at('10.1.2.3'), null);
  t.is(at('fe80::1', 'IPv6'), null);
  t.is(loopbackTarget('/tmp/app.sock'), null);
  t.deepEqual(loopbackTarget({ address: '::1', family: 'IPv6', port: 1 }, true, true), { host: '::1', port: 1, tls: true, h2: true });
});

test('the recorded port is the one that carried most of the traffic; requests of other ports are not replayed to it', (t) => {
  const r = (url: string, count: number, port?: number): RecordedRequest => ({ method: 'GET', url, headers: {}, count, ...(port ? { port } : {}) });
  const requests = [r('/metrics', 40, 9100), r('/a', 30, 8080), r('/b', 20, 8080), r('/old', 5)];
  t.is(recordedPort(requests), 8080);
  t.is(recordedPort([r('/old', 5)]), null);
  t.is(recordedPort([r('/x', 1, 9000), r('/y', 1, 8000)]), 8000, 'a tie goes to the lower port');
  t.deepEqual(forMainPort(requests, 8080).kept.map((x) => x.url), ['/a', '/b', '/old']);
  t.is(forMainPort(requests, 8080).other, 1);
  t.is(forMainPort(requests, null).kept.length, 4);
  t.is(screenRequests([r('/a', 1, 8080)], { methods: ['GET'], maxBodyBytes: 10, maxRequests: 10 }).kept[0]!.port, 8080);
});
