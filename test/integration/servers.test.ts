import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as path from 'node:path';
import { canCaptureHttp2 } from '../../src/capture/request-capture';
import type { RecordedRequest, WarmupProfile } from '../../src/profile/schema';
import { fixture, readJson, tempDir, testCertificate, warnings } from '../helpers/run';
import { servedRequests, startUnderAgent } from '../helpers/guest';
import { bootService, freePort, get, pollStatus } from '../helpers/service';

// Every server a service really has: the one that served the recorded traffic is warmed, on the
// address it listens on, whatever its kind (http, https, http2 with or without TLS), and under
// node:cluster the primary answers for its workers. Each case here is wrong or stuck on 19cdc5e.

const servers = fixture('services', 'servers', 'server.js');
/** The warm-up's own deadline out of the way: these tests are about where the replay goes. */
const patient = { PREHEAT_DEADLINE_MS: '120000' };

/** Where `work` starts as V8 reports it: its parameter list's opening parenthesis. */
function workPosition(): { line: number; column: number } {
  const lines = fs.readFileSync(servers, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.startsWith('function work('));
  return { line: line + 1, column: lines[line]!.indexOf('(') + 1 };
}

/**
 * A profile for the fixture. Each request has a generous recorded steady latency, so the warm-up
 * ends once the replay is answered that fast (the latency rule) instead of after 2000 replays:
 * these tests are about where the replay goes, not how long it takes.
 */
function serversProfile(requests: Partial<RecordedRequest>[]): string {
  const dir = tempDir();
  const now = new Date().toISOString();
  const profile = {
    schemaVersion: 1,
    tool: 'preheat',
    preheatVersion: 'test',
    node: process.versions.node,
    v8: process.versions.v8,
    appRoot: path.dirname(servers),
    generation: 1,
    createdAt: now,
    updatedAt: now,
    sampleIntervalMicros: 1000,
    samples: { busy: 100, gc: 0, program: 0, native: 0 },
    hotFunctions: [{ name: 'work', file: 'server.js', ...workPosition(), sourceHash: null, selfSamples: 90, totalSamples: 90, share: 0.9, totalShare: 0.9 }],
    requests: requests.map((r) => ({ method: 'GET', url: '/', headers: {}, count: 1, status: 200, latencyMs: 50, ...r })),
  };
  fs.writeFileSync(path.join(dir, 'profile.json'), JSON.stringify(profile));
  return dir;
}

/** Starts the fixture under the agent; collects its output; a hang is killed, not a stuck test run. */
function start(env: NodeJS.ProcessEnv) {
  const { child, exited, stdout, stderr } = startUnderAgent(servers, env, [], 90_000);
  return {
    child,
    stdout,
    stderr,
    /** The ports of the `listening <port>` lines so far. */
    listening: () => [...stdout().matchAll(/^listening (\d+)$/gm)].map((m) => Number(m[1])),
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    exited,
  };
}

interface Served {
  server: string;
  pid: number;
  url: string;
  replay: string | null;
}

const served = (stderr: string) => servedRequests<Served>(stderr);

async function until(cond: () => boolean, timeoutMs = 60_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** Settled, or clearly failing: a replay that only errors would otherwise wait for the patient deadline. */
const decided = (s: any) => s?.ready || s?.errors >= 10 || ['deadline', 'stopped'].includes(s?.phase);

test('record mode keeps the local port each request was served on', async (t) => {
  const dir = tempDir();
  const [metricsPort, appPort] = [await freePort(), await freePort()];
  const s = start({ PREHEAT_MODE: 'record', PREHEAT_DIR: dir, SERVERS_METRICS_PORT: String(metricsPort), SERVERS_PORT: String(appPort) });
  t.true(await until(() => s.listening().length > 0), s.stderr());
  for (let i = 0; i < 5; i++) await get(appPort, '/items');
  for (let i = 0; i < 2; i++) await get(metricsPort, '/metrics');
  await s.stop();
  const requests = readJson<WarmupProfile>(path.join(dir, 'profile.json')).requests!;
  t.deepEqual(
    requests.map((r) => [r.url, r.count, r.port]),
    [
      ['/items', 5, appPort],
      ['/metrics', 2, metricsPort],
    ],
  );
});

test('a port the OS assigned (the app asked for port 0) is not recorded: it says nothing about the next boot', async (t) => {
  const dir = tempDir();
  const s = start({ PREHEAT_MODE: 'record', PREHEAT_DIR: dir });
  t.true(await until(() => s.listening().length > 0), s.stderr());
  for (let i = 0; i < 3; i++) await get(s.listening()[0]!, '/items');
  await s.stop();
  const requests = readJson<WarmupProfile>(path.join(dir, 'profile.json')).requests!;
  t.deepEqual(requests.map((r) => [r.url, r.count, r.port]), [['/items', 3, undefined]]);
});

test('a metrics server that listens first does not take the replay: the server on the recorded port is warmed', async (t) => {
  const [metricsPort, appPort, port] = [await freePort(), await freePort(), await freePort()];
  const dir = serversProfile([
    { url: '/items', count: 50, port: appPort },
    { url: '/metrics', count: 10, port: metricsPort },
  ]);
  const s = start({
    PREHEAT_MODE: 'warm',
    PREHEAT_DIR: dir,
    PREHEAT_PORT: String(port),
    SERVERS_METRICS_PORT: String(metricsPort),
    SERVERS_PORT: String(appPort),
    SERVERS_APP_AFTER_MS: '1000',
    ...patient,
  });
  const status = await pollStatus(port, decided, 100_000);
  await s.stop();
  const replayed = served(s.stderr()).filter((r) => r.replay !== null);
  t.is(status?.phase, 'ready', JSON.stringify(status));
  t.true(replayed.length > 0, s.stderr().slice(0, 2000));
  t.deepEqual([...new Set(replayed.map((r) => `${r.server} ${r.url}`))], ['app /items'], 'only the app server, only its own requests');
  t.deepEqual(warnings(s.stderr()), []);
});

test('when no server listens on the recorded port, the first HTTP server is warmed, with a debug line', async (t) => {
  const port = await freePort();
  const gone = await freePort();
  const dir = serversProfile([{ url: '/items', count: 5, port: gone }]);
  const s = start({ PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PREHEAT_LOG_LEVEL: 'debug', ...patient });
  const status = await pollStatus(port, decided, 100_000);
  await s.stop();
  t.is(status?.phase, 'ready', JSON.stringify(status));
  t.true(status.replayed > 0);
  t.regex(s.stderr(), new RegExp(`^preheat: no app server listens on the recorded port ${gone}; warming the first HTTP server to listen, on port ${s.listening()[0]}$`, 'm'));
});

test('a server bound to 127.0.0.2 only is replayed to on 127.0.0.2', async (t) => {
  const port = await freePort();
  const s = start({ PREHEAT_MODE: 'warm', PREHEAT_DIR: serversProfile([{ url: '/items' }]), PREHEAT_PORT: String(port), SERVERS_HOST: '127.0.0.2', ...patient });
  const status = await pollStatus(port, decided, 100_000);
  await s.stop();
  t.is(status?.phase, 'ready', JSON.stringify(status));
  t.true(status.replayed > 0);
  t.is(status.errors, 0);
  t.true(served(s.stderr()).some((r) => r.replay !== null));
});

/** Whether ::1 can be bound here, known before the tests are declared so that ava can report a skip. */
const hasIpv6Loopback = (() => {
  try {
    execFileSync(process.execPath, ['-e', "require('net').createServer().on('error', () => process.exit(1)).listen(0, '::1', function () { this.close(); })"], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasIpv6Loopback) console.error('servers.test: this machine has no IPv6 loopback (::1 cannot be bound); the ::1 test is skipped');

(hasIpv6Loopback ? test : test.skip)('a server bound to ::1 only is replayed to on ::1', async (t) => {
  const port = await freePort();
  const s = start({ PREHEAT_MODE: 'warm', PREHEAT_DIR: serversProfile([{ url: '/items' }]), PREHEAT_PORT: String(port), SERVERS_HOST: '::1', ...patient });
  const status = await pollStatus(port, decided, 100_000);
  await s.stop();
  t.is(status?.phase, 'ready', JSON.stringify(status));
  t.true(status.replayed > 0);
  t.is(status.errors, 0);
});

for (const kind of ['h2', 'h2s', 'h2s-h1'] as const) {
  test(`an http2 server (${kind}) is warmed over HTTP/2 to loopback`, async (t) => {
    const tls = kind === 'h2' ? {} : (({ key, cert }) => ({ SERVERS_TLS_KEY: key, SERVERS_TLS_CERT: cert }))(testCertificate);
    const port = await freePort();
    const s = start({ PREHEAT_MODE: 'warm', PREHEAT_DIR: serversProfile([{ url: '/items', headers: { accept: 'text/plain' } }]), PREHEAT_PORT: String(port), SERVERS_KIND: kind, ...tls, ...patient });
    const status = await pollStatus(port, decided, 100_000);
    await s.stop();
    t.is(status?.phase, 'ready', JSON.stringify(status));
    t.true(status.replayed > 0);
    t.true(status.errors <= status.replayed / 10, JSON.stringify(status)); // a few replay timeouts under load, never most
    const replayed = served(s.stderr()).filter((r) => r.replay !== null);
    t.true(replayed.length > 0);
    t.deepEqual([...new Set(replayed.map((r) => r.url))], ['/items']);
    t.deepEqual(warnings(s.stderr()), []);
  });
}

test('an http2 server is recorded where Node publishes the http2 channels, and gets one warning where it does not', async (t) => {
  const dir = tempDir();
  const appPort = await freePort();
  const s = start({ PREHEAT_MODE: 'record', PREHEAT_DIR: dir, SERVERS_KIND: 'h2', SERVERS_PORT: String(appPort) });
  t.true(await until(() => s.listening().length > 0), s.stderr());
  const session = http2.connect(`http://127.0.0.1:${appPort}`);
  for (let i = 0; i < 4; i++) {
    await new Promise<void>((resolve, reject) => {
      const q = session.request({ ':path': '/items?page=2', accept: 'text/plain' });
      q.resume();
      q.on('end', resolve);
      q.on('error', reject);
    });
  }
  session.close();
  await s.stop();
  const profile = readJson<WarmupProfile>(path.join(dir, 'profile.json'));
  if (canCaptureHttp2()) {
    t.deepEqual(profile.requests?.map((r) => [r.method, r.url, r.headers, r.count, r.status, r.port]), [['GET', '/items?page=2', { accept: 'text/plain' }, 4, 200, appPort]]);
    t.deepEqual(warnings(s.stderr()), []);
  } else {
    t.is(profile.requests, undefined);
    const w = warnings(s.stderr());
    t.is(w.length, 1, s.stderr());
    t.regex(w[0]!, /requests to the app's HTTP\/2 server are not recorded .*\[PREHEAT_W017\]$/);
  }
});

test('node:cluster: the primary answers /ready for its two workers, each worker warms, and a dead worker does not pin it', async (t) => {
  const port = await freePort();
  const s = start({ PREHEAT_MODE: 'warm', PREHEAT_DIR: serversProfile([{ url: '/items', count: 10 }]), PREHEAT_PORT: String(port), SERVERS_WORKERS: '2', ...patient });
  const status = await pollStatus(port, (x) => x?.ready && x.workers?.length === 2, 60_000);
  t.true(status?.ready, JSON.stringify(status));
  t.is(status.workers.length, 2);
  t.true(status.workers.every((w: { ready: boolean }) => w.ready), JSON.stringify(status.workers));
  // Both workers were served replayed requests, all with one marker (the primary's).
  const replayed = served(s.stderr()).filter((r) => r.replay !== null);
  const byPid = new Map<number, number>();
  for (const r of replayed) byPid.set(r.pid, (byPid.get(r.pid) ?? 0) + 1);
  t.log(`replayed requests served per worker: ${JSON.stringify(Object.fromEntries(byPid))}`);
  t.is(byPid.size, 2, 'each worker served replayed requests');
  t.is(new Set(replayed.map((r) => r.replay)).size, 1, 'one marker value across the cluster');
  // A worker dies: the one left decides.
  process.kill(status.workers[0].pid, 'SIGKILL');
  const after = await pollStatus(port, (x) => x?.workers?.length === 1, 60_000);
  const ready = await get(port, '/ready');
  await s.stop();
  t.is(after?.workers?.length, 1, JSON.stringify(after));
  t.is(ready.status, 200);
  // No readiness server per worker (no port clash), and no preheat message reached the app's IPC.
  t.deepEqual(warnings(s.stderr()), []);
  t.notRegex(s.stdout(), /app message|got app message/);
});

test('fastify: recorded with its port, then warmed on that port', async (t) => {
  const shop = fixture('services', 'docs-shop', 'server.js');
  const dir = tempDir();
  const appPort = await freePort();
  const rec = await bootService(shop, { PREHEAT_MODE: 'record', PREHEAT_DIR: dir, PORT: String(appPort) });
  for (let i = 0; i < 40; i++) await get(appPort, i % 2 ? '/products' : `/product/${i}`);
  await rec.stop();
  const recorded = readJson<WarmupProfile>(path.join(dir, 'profile.json')).requests!;
  t.true(recorded.length > 0);
  t.true(recorded.every((r) => r.port === appPort), JSON.stringify(recorded.slice(0, 3)));
  const port = await freePort();
  const warm = await bootService(shop, { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PORT: String(appPort), ...patient });
  const status = await pollStatus(port, decided, 100_000);
  await warm.stop();
  t.is(status?.phase, 'ready', JSON.stringify(status));
  t.true(status.replayed > 0);
  // A loaded matrix run (Node 24) let 2 replays pass the 2 s replay timeout: a few, never most.
  t.true(status.errors <= status.replayed / 10, JSON.stringify(status));
});
