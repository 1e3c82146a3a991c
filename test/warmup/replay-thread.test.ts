import test from 'ava';
import * as dc from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RecordedRequest } from '../../src/profile/schema';
import { decodeResult, encodeResult, type ReplayResult } from '../../src/warmup/replay';
import { createReplayer, REPLAY_WORKER_FILE, type ReplayerOptions } from '../../src/warmup/replay-thread';
import { tempDir } from '../helpers/run';

const marker = { header: 'x-preheat-replay', value: 'a'.repeat(32) };
const schedule: RecordedRequest[] = [
  { method: 'GET', url: '/a', headers: { accept: 'text/plain' }, count: 2 },
  { method: 'GET', url: '/missing', headers: {}, count: 1 },
];

/** A server in this test process: counts what it serves, 404 for /missing, holds /slow for a while. */
async function server(holdMs = 0) {
  const seen: { url: string; marker: string | undefined }[] = [];
  const s = http.createServer((req, res) => {
    seen.push({ url: req.url!, marker: req.headers[marker.header] as string | undefined });
    const end = () => {
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end('ok');
    };
    if (holdMs) setTimeout(end, holdMs);
    else end();
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  return { s, port, seen, close: () => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r()))) };
}

function options(port: number, over: Partial<ReplayerOptions> = {}) {
  const results: ReplayResult[] = [];
  const fallbacks: string[] = [];
  const o: ReplayerOptions = {
    schedule,
    target: { host: '127.0.0.1', port, tls: false },
    concurrency: 2,
    timeoutMs: 2000,
    marker,
    newConnectionEach: false,
    onResult: (r) => results.push(r),
    onFallback: (why) => fallbacks.push(why),
    ...over,
  };
  return { o, results, fallbacks };
}

/** Requests this thread sends as an HTTP client: every thread has its own diagnostics channels. */
function watchClientRequests() {
  let n = 0;
  const on = () => n++;
  dc.subscribe('http.client.request.start', on);
  return { count: () => n, stop: () => dc.unsubscribe('http.client.request.start', on) };
}

const never = () => false;

test('results cross threads as one number each: the status, negative for a failure', (t) => {
  for (const r of [{ ok: true, status: 200 }, { ok: true, status: 404 }, { ok: false, status: 503 }, { ok: false, status: 0 }]) {
    t.deepEqual(decodeResult(encodeResult(r)), r);
  }
});

test.serial('a worker replayer sends from another thread: the server sees the requests, this thread sends none', async (t) => {
  const srv = await server();
  const { o, results, fallbacks } = options(srv.port);
  const client = watchClientRequests();
  const r = createReplayer('worker', o);
  try {
    await r.round(40, performance.now() + 20_000, never);
    t.is(r.thread, 'worker');
    t.true(results.length >= 40, `${results.length} results`);
    t.true(srv.seen.length >= 40);
    t.true(srv.seen.every((x) => x.marker === marker.value), 'every request carries the marker');
    t.deepEqual([...new Set(srv.seen.map((x) => x.url))].sort(), ['/a', '/missing']);
    t.true(results.some((x) => x.ok && x.status === 404), 'a 404 is an answer, not a failure');
    t.is(client.count(), 0, 'this thread sent no HTTP request');
    t.deepEqual(fallbacks, []);
  } finally {
    client.stop();
    r.close();
    await srv.close();
  }
});

test('the worker sends between rounds, stops at close, and its requests in flight are seen from here', async (t) => {
  const srv = await server(200);
  const { o } = options(srv.port);
  const r = createReplayer('worker', o);
  try {
    await r.round(2, performance.now() + 20_000, never);
    // Requests held 200 ms by the server: two are in flight on the worker's thread.
    const start = performance.now();
    while (r.inFlight() === 0 && performance.now() - start < 5000) await new Promise((res) => setTimeout(res, 10));
    t.is(r.inFlight(), 2, 'concurrency 2, counted through shared memory');
    r.close();
    await new Promise((res) => setTimeout(res, 1500));
    const after = srv.seen.length;
    await new Promise((res) => setTimeout(res, 500));
    t.is(srv.seen.length, after, 'nothing is sent after close');
    t.is(r.inFlight(), 0);
  } finally {
    r.close();
    await srv.close();
  }
});

test('a marker value adopted after the start (a cluster worker takes its primary\'s) reaches the worker', async (t) => {
  const srv = await server();
  const shared = { header: marker.header, value: marker.value };
  const { o } = options(srv.port, { marker: shared });
  const r = createReplayer('worker', o);
  try {
    await r.round(5, performance.now() + 20_000, never);
    shared.value = 'b'.repeat(32);
    await r.round(30, performance.now() + 20_000, never);
    t.is(srv.seen.at(-1)!.marker, shared.value);
  } finally {
    r.close();
    await srv.close();
  }
});

test('a round ends as soon as its stop condition holds, without waiting for its size', async (t) => {
  const srv = await server(50);
  const { o } = options(srv.port);
  const r = createReplayer('worker', o);
  try {
    await r.round(1, performance.now() + 20_000, never);
    let stop = false;
    setTimeout(() => (stop = true), 100);
    const t0 = performance.now();
    await r.round(1_000_000, performance.now() + 20_000, () => stop);
    t.true(performance.now() - t0 < 2000, `${Math.round(performance.now() - t0)} ms`);
  } finally {
    r.close();
    await srv.close();
  }
});

test.serial('a worker file that cannot be loaded: one fallback, and the replay runs on this thread', async (t) => {
  const srv = await server();
  const { o, results, fallbacks } = options(srv.port);
  const client = watchClientRequests();
  const r = createReplayer('worker', o, path.join(tempDir(), 'missing-replay-worker.js'));
  try {
    await r.round(10, performance.now() + 20_000, never);
    await r.round(10, performance.now() + 20_000, never);
    t.is(r.thread, 'main');
    t.is(fallbacks.length, 1, fallbacks.join('; '));
    t.regex(fallbacks[0]!, /^(failed|could not be created) \(.*missing-replay-worker/);
    t.true(results.length >= 20);
    t.true(client.count() >= 20, 'sent from this thread');
  } finally {
    client.stop();
    r.close();
    await srv.close();
  }
});

test.serial('without SharedArrayBuffer (deleted by a hardening preload): one fallback, and the replay runs on this thread', async (t) => {
  const srv = await server();
  const { o, results, fallbacks } = options(srv.port);
  const client = watchClientRequests();
  const g = globalThis as { SharedArrayBuffer?: SharedArrayBufferConstructor };
  const saved = g.SharedArrayBuffer;
  delete g.SharedArrayBuffer;
  let r: ReturnType<typeof createReplayer>;
  try {
    r = createReplayer('worker', o);
  } finally {
    g.SharedArrayBuffer = saved;
  }
  try {
    await r.round(10, performance.now() + 20_000, never);
    t.is(r.thread, 'main');
    t.deepEqual(fallbacks, ['could not be created (SharedArrayBuffer is not defined)']);
    t.true(results.length >= 10);
    t.true(client.count() >= 10, 'sent from this thread');
    t.is(r.inFlight(), 0);
  } finally {
    client.stop();
    r.close();
    await srv.close();
  }
});

test('a worker that dies while replaying: one fallback, the next round runs on this thread', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'dies.js');
  // Starts like the real one, then throws once it is told to go.
  fs.writeFileSync(
    file,
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (m) => { if (m.t === 'go') setTimeout(() => { throw new Error('replay worker died'); }, 20); });
     parentPort.postMessage({ t: 'ready', ms: 0 });`,
  );
  const srv = await server();
  const { o, results, fallbacks } = options(srv.port);
  const r = createReplayer('worker', o, file);
  try {
    await r.round(10, performance.now() + 20_000, never);
    t.is(r.thread, 'main');
    await r.round(10, performance.now() + 20_000, never);
    t.deepEqual(fallbacks, ['failed (replay worker died)']);
    t.true(results.length >= 10);
  } finally {
    r.close();
    await srv.close();
  }
});

test('a worker that never gets ready is given up on after its start limit', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'stalls.js');
  fs.writeFileSync(file, `require('node:worker_threads').parentPort.on('message', () => {});`);
  const srv = await server();
  const { o, results, fallbacks } = options(srv.port);
  const r = createReplayer('worker', o, file);
  try {
    await r.round(5, performance.now() + 20_000, never);
    t.deepEqual(fallbacks, ['did not start within 3000 ms']);
    t.true(results.length >= 5);
  } finally {
    r.close();
    await srv.close();
  }
});

test('the compiled worker entry sits next to the module that starts it', (t) => {
  t.true(fs.existsSync(REPLAY_WORKER_FILE), REPLAY_WORKER_FILE);
});
