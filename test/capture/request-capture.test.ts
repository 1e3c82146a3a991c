import test from 'ava';
import * as dc from 'node:diagnostics_channel';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createReplayMarker } from '../../src/capture/replay-marker';
import { admission, REPLAY_HEADER, startRequestCapture } from '../../src/capture/request-capture';

/**
 * A server in this process with its own capture (the capture of another test ignores it). The
 * handler decides the response; `answered(n)` resolves once n responses have finished on the
 * server side: the capture's own 'finish' listener was added before the handler ran, so it has run.
 */
async function setup(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void, steadyAfterMs = 0, maxPerSecond?: number) {
  let finished = 0;
  const waiting: { n: number; resolve: () => void }[] = [];
  const server = http.createServer((req, res) => {
    res.on('finish', () => {
      finished++;
      for (const w of waiting.filter((x) => x.n <= finished)) w.resolve();
    });
    handler(req, res);
  });
  const marker = createReplayMarker();
  const capture = startRequestCapture({ methods: ['GET', 'POST'], maxRequests: 20, maxBodyBytes: 10_000, marker, ignoreServer: (s) => s !== server, steadyAfterMs, maxPerSecond });
  capture.resume();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const send = (path: string, headers: Record<string, string> = {}, method = 'GET', body?: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  const answered = (n: number) => new Promise<void>((resolve) => (finished >= n ? resolve() : waiting.push({ n, resolve })));
  const urls = () => capture.sample.top(20).map((r) => r.url).sort();
  return { server, marker, capture, send, answered, urls, close: () => (capture.pause(), server.close()) };
}

test("a forged x-preheat-replay header is recorded; only this boot's value keeps a request out", async (t) => {
  const s = await setup((_req, res) => res.end('ok'));
  await s.send('/forged-1', { [REPLAY_HEADER]: '1' });
  await s.send('/forged-other-boot', { [REPLAY_HEADER]: createReplayMarker().value });
  await s.send('/replayed', { [REPLAY_HEADER]: s.marker.value });
  await s.send('/plain');
  await s.answered(4);
  t.deepEqual(s.urls(), ['/forged-1', '/forged-other-boot', '/plain']);
  s.close();
});

test('a request enters the sample only once its response has finished', async (t) => {
  let release!: () => void;
  let arrived!: () => void;
  const slowArrived = new Promise<void>((r) => (arrived = r));
  const s = await setup((req, res) => {
    if (req.url === '/slow') {
      release = () => res.end('late');
      arrived();
    } else res.end('ok');
  });
  const slow = s.send('/slow');
  await slowArrived;
  await s.send('/fast');
  await s.answered(1);
  t.deepEqual(s.urls(), ['/fast'], 'the capture has seen /slow start, but it has not been answered');
  release();
  await slow;
  await s.answered(2);
  t.deepEqual(s.urls(), ['/fast', '/slow']);
  s.close();
});

test('a request answered 5xx is not recorded', async (t) => {
  const s = await setup((req, res) => {
    res.statusCode = req.url === '/boom' ? 500 : req.url === '/missing' ? 404 : 200;
    res.end();
  });
  t.is(await s.send('/boom'), 500);
  t.is(await s.send('/missing'), 404);
  t.is(await s.send('/ok'), 200);
  await s.answered(3);
  t.deepEqual(s.urls(), ['/missing', '/ok']);
  s.close();
});

test('a body is recorded redacted once read and answered, in either order', async (t) => {
  let release!: () => void;
  let readEnded!: () => void;
  let unreadEnded!: () => void;
  const readDone = new Promise<void>((r) => (readEnded = r));
  const unreadDone = new Promise<void>((r) => (unreadEnded = r));
  const s = await setup((req, res) => {
    if (req.url === '/read') {
      // Reads the whole body, then answers only when the test says so.
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        release = () => res.end(String(text.length));
        readEnded();
      });
    } else {
      // Answers first; Node discards the unread body afterwards.
      req.on('end', () => unreadEnded());
      res.end('ignored');
    }
  });
  const read = s.send('/read', { 'content-type': 'application/json' }, 'POST', '{"q":"red","passcode":"4321"}');
  await readDone;
  t.deepEqual(s.urls(), [], 'read to its end but not answered yet');
  release();
  await read;
  await s.send('/unread', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', 'q=red&refreshtoken=r1');
  await s.answered(2);
  await unreadDone;
  t.deepEqual(
    s.capture.sample.top(20).map((r) => [r.url, r.body]).sort(),
    [
      ['/read', '{"q":"red","passcode":"0000"}'],
      ['/unread', 'q=red&refreshtoken=REDACTED'],
    ],
  );
  s.close();
});

test('each recorded request keeps its status and, once the process is steady, its server-side median latency', async (t) => {
  const s = await setup((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('late'), 30);
    else if (req.url === '/missing') res.writeHead(404).end();
    else res.end('ok');
  });
  for (let i = 0; i < 6; i++) await s.send('/slow');
  await s.send('/missing');
  await s.send('/fast');
  await s.answered(8);
  const byUrl = new Map(s.capture.sample.top(20).map((r) => [r.url, r]));
  t.is(byUrl.get('/slow')!.status, 200);
  t.true(byUrl.get('/slow')!.latencyMs! >= 25, JSON.stringify(byUrl.get('/slow')));
  t.is(byUrl.get('/missing')!.status, 404);
  // One request is not enough to say what a route's steady latency is.
  t.is(byUrl.get('/fast')!.latencyMs, undefined);
  s.close();
});

test('requests before PREHEAT_STEADY_AFTER_MS are counted but their latencies are not', async (t) => {
  const s = await setup((_req, res) => res.end('ok'), 24 * 3600_000);
  for (let i = 0; i < 6; i++) await s.send('/early');
  await s.answered(6);
  const [early] = s.capture.sample.top(20);
  t.is(early!.count, 6);
  t.is(early!.status, 200);
  t.is(early!.latencyMs, undefined);
  s.close();
});

test('maxPerSecond records every request of a quiet server, and at most that many a second of a busy one', async (t) => {
  const s = await setup((_req, res) => res.end('ok'), 0, 10);
  try {
    const started = Date.now();
    for (let i = 0; i < 5; i++) await s.send(`/quiet${i}`);
    await s.answered(5);
    t.deepEqual(s.urls(), ['/quiet0', '/quiet1', '/quiet2', '/quiet3', '/quiet4'], 'a burst under the limit is recorded whole');
    // 200 requests at once: far more than 10 a second even on a loaded machine (a loop of requests
    // for a fixed time sent none when the quiet ones alone took that long).
    const busy = 200;
    await Promise.all(Array.from({ length: busy }, (_, i) => s.send(`/busy${i}`)));
    const sent = 5 + busy;
    await s.answered(sent);
    const seconds = (Date.now() - started) / 1000;
    const recorded = s.capture.sample.top(1000).reduce((n, r) => n + r.count, 0);
    t.true(10 + Math.ceil(seconds * 10) + 1 < sent, `the requests came faster than the limit: ${sent} in ${seconds} s`);
    // The full bucket (10), then 10 a second.
    t.true(recorded >= 10 && recorded <= 10 + Math.ceil(seconds * 10) + 1, `${recorded} recorded of ${sent} in ${seconds} s`);
  } finally {
    s.close();
  }
});

test('admission: a bucket of perSecond tokens, refilled at perSecond a second', (t) => {
  const admit = admission(4);
  const at = (ms: number, n: number) => Array.from({ length: n }, () => admit.take(ms)).filter(Boolean).length;
  t.is(at(0, 10), 4, 'a burst: the full bucket');
  t.is(at(100, 10), 0, 'a tenth of a second refills 0.4 token');
  t.is(at(250, 10), 1, 'a quarter of a second: one');
  t.is(at(10_000, 10), 4, 'never more than the bucket');
  admit.giveBack();
  t.is(at(10_000, 10), 1, 'a token given back is there again, and the bucket still holds no more than its size');
  t.true(admission(undefined).take(0));
});

test('a replayed request gives its token back: with a bucket of one, the real request after it is recorded', async (t) => {
  const s = await setup((_req, res) => res.end('ok'), 0, 1);
  try {
    await s.send('/replayed', { [REPLAY_HEADER]: s.marker.value });
    await s.send('/real');
    await s.answered(2);
    t.deepEqual(s.urls(), ['/real']);
  } finally {
    s.close();
  }
});

test("a request the bucket turns away is not asked for its headers (Node 26 builds them on the first read)", async (t) => {
  const s = await setup((_req, res) => res.end('ok'), 0, 1);
  const channel = dc.channel('http.server.request.start');
  let reads = 0;
  const fake = (url: string) => {
    const request = { method: 'GET', url, socket: {} };
    Object.defineProperty(request, 'headers', { get: () => (reads++, {}) });
    return { request, response: new http.ServerResponse(request as http.IncomingMessage), socket: {}, server: s.server };
  };
  try {
    channel.publish(fake('/first')); // takes the bucket's one token: its headers are read
    const afterFirst = reads;
    for (let i = 0; i < 5; i++) channel.publish(fake(`/turned-away-${i}`));
    t.true(afterFirst > 0, 'the admitted request is read');
    t.is(reads, afterFirst, 'no request turned away was read');
  } finally {
    s.close();
  }
});
