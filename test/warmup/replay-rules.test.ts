import test from 'ava';
import type { RecordedRequest } from '../../src/profile/schema';
import { globMatcher } from '../../src/warmup/path-globs';
import { screenRequests, unsampledTraceparent } from '../../src/warmup/replay';

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
  const [r] = screenRequests([req('/x', { status: 200, latencyMs: 3, headers: { accept: 'a', authorization: 'Bearer x', host: 'evil' } })], rules).kept;
  t.deepEqual(r, { method: 'GET', url: '/x', headers: { accept: 'a' }, count: 1, status: 200, latencyMs: 3 });
});

test('replayed requests carry a W3C traceparent that is not sampled, new for each request', (t) => {
  const a = unsampledTraceparent();
  t.regex(a, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  t.not(a, unsampledTraceparent());
});
