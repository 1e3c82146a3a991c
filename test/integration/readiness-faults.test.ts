import test from 'ava';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { WarmupProfile } from '../../src/profile/schema';
import { guest, guestProfile, patient, servedRequests, startGuest } from '../helpers/guest';
import { fixture, tempDir, testCertificate, warnings } from '../helpers/run';
import { bootService, freePort, get, pollStatus } from '../helpers/service';

// The agent is a guest: whatever goes wrong inside the warm-up, readiness gets decided, and the
// app's process lives and ends as it would without preheat. Each case here broke on 370318e.


test('a recorded path Node refuses to send is skipped with one warning, and the warm-up still ends ready', async (t) => {
  const dir = guestProfile([{ url: '/a b' }, { url: '/x\r\nInjected: 1' }, { url: '/ok' }]);
  const port = await freePort();
  const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), ...patient });
  const status = await pollStatus(port, (x) => x.ready || x.phase === 'failed', 100_000);
  await s.stop();
  t.is(status.phase, 'ready', status.reason);
  t.true(status.replayed > 0);
  t.is(status.skipped, 2);
  t.deepEqual(
    warnings(s.stderr()).map((l) => l.replace(/:.*\[/, ' [')),
    ['preheat [PREHEAT_W013]'],
    s.stderr(),
  );
});

test('with code generation from strings disallowed, the warm-up replays without natives and ends ready', async (t) => {
  const dir = guestProfile([{ url: '/ok' }]);
  const port = await freePort();
  const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), ...patient }, ['--disallow-code-generation-from-strings']);
  const status = await pollStatus(port, (x) => x.ready, 100_000);
  const ready = await get(port, '/ready');
  await s.stop();
  t.is(ready.status, 200);
  t.is(status.phase, 'ready', status.reason);
  t.true(status.replayed > 0);
  t.regex(s.stderr(), /^preheat: V8 natives are unavailable .*warming by replay only \[PREHEAT_W012\]$/m);
});

test('in a process without SharedArrayBuffer, the worker-thread replay falls back to the main thread with one warning, and the warm-up ends ready', async (t) => {
  // The replay's worker thread shares its stop flag and in-flight count in a SharedArrayBuffer.
  // Without one (a hardening preload deletes it; V8's --no-harmony-sharedarraybuffer on Node 20)
  // the agent's own code meets the missing global while it sets the worker up: that is one more
  // reason the worker cannot be used, and the main thread replays, as when it cannot be created.
  const dir = guestProfile([{ url: '/ok' }]);
  const port = await freePort();
  const s = await bootService(
    guest,
    { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PREHEAT_REPLAY_THREAD: 'worker', GUEST_WATCH_CLIENT: '1', ...patient },
    ['--require', fixture('preload', 'no-shared-memory.js')],
  );
  const status = await pollStatus(port, (x) => ['ready', 'deadline', 'stopped'].includes(x.phase), 100_000);
  const ready = await get(port, '/ready');
  const app = await get(s.port, '/ok');
  const end = await s.stop();
  t.is(status.phase, 'ready', status.reason);
  t.is(ready.status, 200);
  t.true(status.replayed > 0, JSON.stringify(status));
  t.is(status.replayThread, 'main');
  t.regex(s.stderr(), /^app: the main thread sent an HTTP request$/m, 'the main thread replayed');
  t.is(app.status, 200, 'the app goes on serving');
  t.is(end.signal, 'SIGTERM');
  t.deepEqual(
    warnings(s.stderr()),
    ["preheat: the replay's worker thread could not be created (SharedArrayBuffer is not defined); replaying on the app's main thread [PREHEAT_W012]"],
    s.stderr(),
  );
  t.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('warming-')), []);
});

for (const [onDeadline, expected] of [
  ['ready', 200],
  ['fail', 503],
] as const) {
  test(`a forced-optimization step that fails ends the warm-up at once with the deadline's decision: ${expected} (PREHEAT_ON_DEADLINE=${onDeadline})`, async (t) => {
    // fixtures/preload/natives-off.js switches natives syntax off and has V8 flush bytecode when the
    // app serves its first replayed request: the optimizer's first step, after that round, calls a
    // natives helper that cannot be compiled again (SyntaxError). It used to report ready whatever
    // PREHEAT_ON_DEADLINE said. The deadline is 120 s away, so only the step's catch decides in time.
    const dir = guestProfile([{ url: '/ok' }]);
    const port = await freePort();
    const s = await bootService(
      guest,
      { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PREHEAT_ON_DEADLINE: onDeadline, ...patient },
      ['--require', fixture('preload', 'natives-off.js')],
    );
    const status = await pollStatus(port, (x) => ['ready', 'deadline', 'stopped'].includes(x.phase), 100_000);
    const ready = await get(port, '/ready');
    const app = await get(s.port, '/ok');
    const end = await s.stop();
    t.regex(s.stderr(), /^natives-off: natives syntax switched off, bytecode flushed$/m, 'the fault happened');
    t.is(status.phase, 'stopped', status.reason);
    t.regex(
      status.reason,
      new RegExp(`^forced optimization failed after [1-9]\\d* replayed requests \\(.+\\); ${onDeadline === 'ready' ? 'reporting ready anyway' : 'staying not ready'} \\(PREHEAT_ON_DEADLINE=${onDeadline}\\)$`),
    );
    t.is(status.ready, expected === 200);
    t.is(ready.status, expected);
    t.is(app.status, 200, 'the app goes on serving');
    t.is(end.signal, 'SIGTERM');
    const w = warnings(s.stderr());
    t.is(w.length, 1, s.stderr());
    t.regex(w[0]!, /^preheat: warm-up failed: forced optimization failed \(.+\) \[PREHEAT_W008\]$/);
    // The warm-up ended (not killed): its marker is gone, and the next boot warms again.
    t.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('warming-')), []);
  });
}

test('/ready never says 200 before the app listens, however short the deadline', async (t) => {
  const dir = guestProfile([{ url: '/ok' }]);
  const port = await freePort();
  const appPort = await freePort();
  const g = startGuest({ PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), PREHEAT_DEADLINE_MS: '200', GUEST_BOOT_MS: '2500', GUEST_PORT: String(appPort) });
  let firstReady: { appAccepts: boolean; listenedAfterMs: number | null } | null = null;
  let answered503 = 0;
  while (!firstReady) {
    const r = await get(port, '/ready').catch(() => null);
    if (r?.status === 503) answered503++;
    if (r?.status === 200) {
      const appAccepts = await new Promise<boolean>((resolve) => {
        const c = net.connect(appPort, '127.0.0.1', () => (c.end(), resolve(true)));
        c.on('error', () => resolve(false));
      });
      const status = JSON.parse((await get(port, '/status')).body);
      firstReady = { appAccepts, listenedAfterMs: status.listenedAfterMs };
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  g.child.kill('SIGTERM');
  await g.exited;
  t.true(answered503 > 0, 'asked while the app was still booting');
  t.true(firstReady.appAccepts, 'when /ready first said 200, the app accepted connections');
  t.true(typeof firstReady.listenedAfterMs === 'number');
});

test('an app that never listens gets its readiness decided by the start limit', async (t) => {
  const port = await freePort();
  const g = startGuest({ PREHEAT_MODE: 'warm', PREHEAT_DIR: guestProfile([{ url: '/ok' }]), PREHEAT_PORT: String(port), PREHEAT_START_LIMIT_MS: '1000', GUEST_NEVER_LISTEN: '1' });
  const status = await pollStatus(port, (x) => x.phase === 'deadline', 30_000);
  const ready = await get(port, '/ready');
  g.child.kill('SIGTERM');
  await g.exited;
  t.is(ready.status, 200);
  t.regex(status.reason, /did not listen within 1000 ms/);
  t.is(g.stderr(), '');
});

test("the heap scan runs after the app's listen callback, and /status says what it cost", async (t) => {
  const port = await freePort();
  const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: guestProfile([{ url: '/ok' }]), PREHEAT_PORT: String(port), PREHEAT_LOG_LEVEL: 'debug', ...patient });
  const status = await pollStatus(port, (x) => x.ready, 100_000);
  await s.stop();
  const lines = s.stderr().split('\n');
  const callback = lines.indexOf('app: listen callback');
  const scan = lines.findIndex((l) => l.startsWith('preheat: function index:'));
  t.true(callback >= 0 && scan >= 0, s.stderr());
  t.true(callback < scan, s.stderr());
  t.is(typeof status.scanMs, 'number');
});

test('/live answers before and after the heap scan; the scan is one synchronous walk, so it delays /live for scanMs and never fails it', async (t) => {
  // About 64 MB of live objects make the walk take long enough to be seen (seconds on a loaded
  // machine); the app listens 1.5 s after the agent's readiness server, so /live answers first.
  const port = await freePort();
  const g = startGuest({ PREHEAT_MODE: 'warm', PREHEAT_DIR: guestProfile([{ url: '/ok' }]), PREHEAT_PORT: String(port), PREHEAT_LOG_LEVEL: 'debug', GUEST_BOOT_MS: '1500', GUEST_HEAP_MB: '64', ...patient });
  let listenedAt = Infinity;
  let scannedAt = Infinity;
  g.child.stdout.on('data', () => (listenedAt = Math.min(listenedAt, /listening/.test(g.stdout()) ? performance.now() : Infinity)));
  g.child.stderr.on('data', () => (scannedAt = Math.min(scannedAt, /^preheat: function index:/m.test(g.stderr()) ? performance.now() : Infinity)));
  const probes: { path: string; status: number | null; sentAt: number; answeredAt: number }[] = [];
  const probe = async (path: string) => {
    const sentAt = performance.now();
    const r = await get(port, path).catch(() => null);
    probes.push({ path, status: r?.status ?? null, sentAt, answeredAt: performance.now() });
    return r;
  };
  let status: any = null;
  const end = performance.now() + 100_000;
  while (!status?.ready && performance.now() < end && g.child.exitCode === null) {
    await probe('/live');
    if (probes.length % 5 === 0) status = await probe('/status').then((r) => (r?.status === 200 ? JSON.parse(r.body) : status));
    await new Promise((r) => setTimeout(r, 10));
  }
  g.child.kill('SIGTERM');
  await g.exited;
  t.is(status?.phase, 'ready', JSON.stringify(status));
  // Below this the heap was too small for the test to say anything (raise GUEST_HEAP_MB).
  t.true(status.scanMs >= 200, `scanMs ${status.scanMs}`);
  // Until the readiness server listens, probes are refused; from its first answer on, none fails.
  const first = probes.findIndex((p) => p.status === 200);
  const failed = probes.slice(first).filter((p) => p.status !== 200);
  t.true(first >= 0);
  t.deepEqual(failed, []);
  const live = probes.filter((p) => p.path === '/live' && p.status === 200);
  t.true(live.some((p) => p.answeredAt < listenedAt), '/live answered before the app listened, so before the scan');
  t.true(live.some((p) => p.sentAt > scannedAt), '/live answered after the scan');
  // What is true of a synchronous walk on the main thread: the probe that met it waited for it.
  const longest = Math.max(...probes.slice(first).map((p) => p.answeredAt - p.sentAt));
  t.true(longest >= status.scanMs / 2, `longest wait ${longest.toFixed(0)} ms, scanMs ${status.scanMs}`);
});

test('replay sends only what the rules allow, whatever the profile holds', async (t) => {
  const dir = guestProfile([
    { url: '/ok', headers: { accept: 'text/html', authorization: 'Bearer SECRET', cookie: 'sid=SECRET', host: 'evil.example', 'content-length': '999', 'x-api-key': 'SECRET' } },
    { method: 'DELETE', url: '/delete-everything' },
    { method: 'POST', url: '/post', body: 'x', headers: { 'content-type': 'text/plain' } },
    { url: 'http://evil.example/absolute' },
    { url: '//evil.example/protocol-relative' },
    { url: '/checkout/pay?order=1' },
  ]);
  const port = await freePort();
  const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), GUEST_LOG_REQUESTS: '1', PREHEAT_SKIP_PATHS: '/checkout/**', ...patient });
  const status = await pollStatus(port, (x) => x.ready, 100_000);
  await s.stop();
  const seen = servedRequests(s.stderr());
  t.true(seen.length > 0, s.stderr().slice(0, 2000));
  t.deepEqual([...new Set(seen.map((r) => `${r.method} ${r.url}`))], ['GET /ok']);
  for (const r of seen) {
    t.is(r.headers.authorization, undefined);
    t.is(r.headers.cookie, undefined);
    t.is(r.headers['x-api-key'], undefined);
    t.regex(r.headers.host!, /^127\.0\.0\.1:\d+$/);
    t.is(r.headers.accept, 'text/html');
    // The marker carries a secret of this boot, not a value anyone could guess.
    t.regex(r.headers['x-preheat-replay']!, /^[0-9a-f]{32}$/);
    // Not sampled: tracing back ends drop the replay's spans.
    t.regex(r.headers.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  }
  t.is(status.skipped, 5);
});

test('the accept-encoding real clients send is recorded and replayed, so the compression path is warmed with the rest', async (t) => {
  const dir = tempDir();
  const recording = await bootService(guest, { PREHEAT_MODE: 'record', PREHEAT_DIR: dir, GUEST_WORK_MS: '2' });
  for (let i = 0; i < 40; i++) await get(recording.port, '/page', { 'accept-encoding': 'gzip, deflate, br' });
  for (let i = 0; i < 10; i++) await get(recording.port, '/plain');
  await recording.stop();
  const port = await freePort();
  const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), GUEST_LOG_REQUESTS: '1', ...patient });
  const status = await pollStatus(port, (x) => x.ready, 100_000);
  await s.stop();
  t.is(status.phase, 'ready', status.reason);
  const seen = servedRequests(s.stderr());
  const page = seen.filter((r) => r.url === '/page');
  const plain = seen.filter((r) => r.url === '/plain');
  t.true(page.length > 0 && plain.length > 0, s.stderr().slice(0, 2000));
  t.deepEqual([...new Set(page.map((r) => r.headers['accept-encoding']))], ['gzip, deflate, br']);
  t.deepEqual([...new Set(plain.map((r) => r.headers['accept-encoding']))], [undefined]);
});

test('a recorded body over PREHEAT_MAX_BODY_BYTES is not replayed, with one warning, while the other requests are', async (t) => {
  // Written by hand: the recorder never stores such a body, but a profile is untrusted data.
  const text = { 'content-type': 'text/plain' };
  const dir = guestProfile([
    { url: '/ok' },
    { method: 'POST', url: '/at-cap', body: 'a'.repeat(100), headers: text },
    { method: 'POST', url: '/over-cap', body: 'b'.repeat(101), headers: text },
    // 60 characters, 120 bytes: the cap is in bytes.
    { method: 'POST', url: '/over-cap-utf8', body: 'é'.repeat(60), headers: text },
  ]);
  const port = await freePort();
  const s = await bootService(guest, {
    PREHEAT_MODE: 'warm',
    PREHEAT_DIR: dir,
    PREHEAT_PORT: String(port),
    PREHEAT_REPLAY_METHODS: 'GET,POST',
    PREHEAT_MAX_BODY_BYTES: '100',
    GUEST_LOG_REQUESTS: '1',
    ...patient,
  });
  const status = await pollStatus(port, (x) => x.ready, 100_000);
  await s.stop();
  const seen = servedRequests(s.stderr());
  t.is(status.phase, 'ready', status.reason);
  t.deepEqual([...new Set(seen.map((r) => `${r.method} ${r.url} ${r.bodyBytes}`))].sort(), ['GET /ok 0', 'POST /at-cap 100']);
  t.is(status.skipped, 2);
  t.deepEqual(
    warnings(s.stderr()),
    ["preheat: the profile's requests break the replay rules and are not replayed: 2 with a body over PREHEAT_MAX_BODY_BYTES [PREHEAT_W013]"],
    s.stderr().slice(0, 2000),
  );
});

test('a warm-up that killed its process is not repeated: the next boot starts cold, once warned, and records afresh', async (t) => {
  const dir = guestProfile([{ url: '/ok' }, { url: '/boom' }]);
  const handWritten = fs.readFileSync(path.join(dir, 'profile.json'), 'utf8');
  const port = await freePort();
  const first = startGuest({ PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), ...patient });
  const firstEnd = await first.exited;
  t.is(firstEnd.code, 7, 'the replayed /boom ended the first boot');
  // Each request keeps the app busy a few ms: the recording must see the app's own code to be written.
  const second = await bootService(guest, { PREHEAT_MODE: 'auto', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), GUEST_WORK_MS: '5', ...patient });
  const status = await pollStatus(port, (x) => x.ready, 100_000);
  const answers = [];
  for (let i = 0; i < 20; i++) answers.push((await get(second.port, '/ok')).status);
  const end = await second.stop();
  t.deepEqual([...new Set(answers)], [200]);
  t.is(status.replayed, 0);
  t.regex(status.reason, /no profile to warm from|started cold/);
  t.is(end.signal, 'SIGTERM');
  const w = warnings(second.stderr());
  t.is(w.length, 1, second.stderr());
  t.regex(w[0]!, /never ended: its process died during it; starting cold and recording afresh; .*\(GET \/boom.*\) will not be replayed again \(.*quarantine\.json\) \[PREHEAT_W014\]/);
  // Recorded afresh: the second boot wrote its own file, holding its real traffic and nothing of
  // the profile that killed the first (the first, in warm mode, recorded nothing), and merged it
  // into profile.json.
  const own = fs.readdirSync(dir).filter((n) => /^profile\.(?!base-).+\.json$/.test(n) && n !== 'profile.json');
  t.is(own.length, 1, fs.readdirSync(dir).join(', '));
  const recorded = JSON.parse(fs.readFileSync(path.join(dir, own[0]!), 'utf8')) as WarmupProfile;
  t.deepEqual(recorded.requests?.map((r) => [r.method, r.url, r.count]), [['GET', '/ok', 20]]);
  t.is(recorded.generation, 2, 'one past the profile it did not warm from');
  t.true(recorded.hotFunctions.some((f) => f.file === 'server.js'), JSON.stringify(recorded.hotFunctions.slice(0, 5)));
  const merged = fs.readFileSync(path.join(dir, 'profile.json'), 'utf8');
  t.not(merged, handWritten);
  t.true((JSON.parse(merged) as WarmupProfile).instances?.includes(own[0]!.slice('profile.'.length, -'.json'.length)));
});

for (const thread of ['main', 'worker']) {
  test(`a request whose replay killed the warm-up is quarantined: died, cold, then warm boots that never replay it, instead of a crash every other boot (PREHEAT_REPLAY_THREAD=${thread})`, async (t) => {
    // Auto mode, the default: the cold boot records, and its profile.json still holds /boom (merged
    // in from the profile it did not warm from). Recorded latencies let the warm boots end on the
    // latency rule; the concurrency is fixed so the test knows how many requests can be in flight.
    const routes = ['/ok', '/a', '/b', '/c', '/d', '/boom'];
    const dir = guestProfile(routes.map((url) => ({ url, status: 200, latencyMs: 1000 })));
    const env = { PREHEAT_MODE: 'auto', PREHEAT_DIR: dir, PREHEAT_REPLAY_CONCURRENCY: '2', PREHEAT_REPLAY_THREAD: thread, ...patient };
    const port = await freePort();
    const first = startGuest({ ...env, PREHEAT_PORT: String(port) });
    t.is((await first.exited).code, 7, 'the replayed /boom ended the first boot');
    // No fallback: on the worker thread, the worker itself named /boom in the marker.
    t.deepEqual(warnings(first.stderr()), []);

    const second = await bootService(guest, { ...env, PREHEAT_PORT: String(port), GUEST_WORK_MS: '5' });
    const cold = await pollStatus(port, (x) => x.ready, 100_000);
    for (let i = 0; i < 20; i++) await get(second.port, '/ok');
    t.is((await second.stop()).signal, 'SIGTERM');
    t.is(cold.replayed, 0);
    const w2 = warnings(second.stderr());
    t.is(w2.length, 1, second.stderr());
    t.regex(w2[0]!, /never ended: its process died during it; starting cold and recording afresh; .*GET \/boom.* will not be replayed again \(.*quarantine\.json\) \[PREHEAT_W014\]$/);
    const merged = JSON.parse(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8')) as WarmupProfile;
    t.true(merged.requests!.some((r) => r.url === '/boom'), 'the profile the next boot warms from still holds /boom');
    const file = path.join(dir, 'quarantine.json');
    t.is(fs.statSync(file).mode & 0o777, 0o600);
    const quarantined = (JSON.parse(fs.readFileSync(file, 'utf8')) as { requests: { request?: string }[] }).requests.map((e) => e.request);
    t.true(quarantined.includes('GET /boom'), JSON.stringify(quarantined));
    // Those in flight when the process died: /boom, and at most one more at concurrency 2.
    t.true(quarantined.length <= 2, JSON.stringify(quarantined));

    for (const boot of [3, 4]) {
      const s = await bootService(guest, { ...env, PREHEAT_PORT: String(port), GUEST_LOG_REQUESTS: '1' });
      const status = await pollStatus(port, (x) => x.ready || ['deadline', 'stopped'].includes(x.phase), 100_000);
      const end = await s.stop();
      const served = new Set(servedRequests(s.stderr()).map((r) => r.url));
      t.is(end.signal, 'SIGTERM', `boot ${boot} lived until stopped`);
      t.is(status.phase, 'ready', `boot ${boot}: ${status.reason}`);
      t.false(served.has('/boom'), `boot ${boot} never replayed /boom`);
      t.deepEqual([...served].sort(), routes.filter((u) => !quarantined.includes(`GET ${u}`)).sort(), `boot ${boot} replayed every other request`);
      t.is(status.skipped, quarantined.length);
      const w = warnings(s.stderr());
      t.is(w.length, 1, s.stderr().slice(0, 2000));
      const m = /^preheat: (\d+) recorded requests? (?:is|are) quarantined and not replayed, as a warm-up that replayed (?:it|them) killed its process \((.*)\); remove (.*) to replay (?:it|them) again \[PREHEAT_W018\]$/.exec(w[0]!);
      t.truthy(m, w[0]);
      t.is(Number(m![1]), quarantined.length);
      t.deepEqual(m![2]!.split(', ').sort(), [...quarantined].sort());
      t.is(m![3], file);
    }
    t.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('warming-')), [], 'the crash marker was retired once its suspects were quarantined');
  });
}

for (const mode of ['warm', 'auto']) {
  test(`a warm-up stopped by SIGTERM is no crash: the process dies by the signal, no marker is left, and the next boot warms and quarantines nothing (${mode} mode)`, async (t) => {
    // Slow requests: the warm-up is still replaying when the signal comes, with requests in flight.
    const dir = guestProfile(['/ok', '/a', '/b'].map((url) => ({ url, status: 200 })));
    const port = await freePort();
    const s = await bootService(guest, { PREHEAT_MODE: mode, PREHEAT_DIR: dir, PREHEAT_PORT: String(port), GUEST_WORK_MS: '50', ...patient });
    const warming = await pollStatus(port, (x) => x.replayed > 0, 100_000);
    t.false(warming.ready, JSON.stringify(warming));
    t.true(fs.readdirSync(dir).some((n) => n.startsWith('warming-')), 'the crash marker is there while the replay runs');
    const end = await s.stop();
    t.is(end.signal, 'SIGTERM', 'died by the signal, as without the agent');
    t.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('warming-')), [], 'the signal took the marker away');

    const next = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), ...patient });
    const status = await pollStatus(port, (x) => x.ready || ['deadline', 'stopped'].includes(x.phase), 100_000);
    await next.stop();
    t.is(status.phase, 'ready', status.reason);
    t.true(status.replayed > 0, 'the next boot warmed, not cold');
    t.deepEqual(warnings(next.stderr()), [], 'no crash warning, no quarantine');
    t.false(fs.existsSync(path.join(dir, 'quarantine.json')));
  });
}

test('a SIGTERM right after the deadline decided readiness, with replays still in flight, is no crash either', async (t) => {
  // Each answer comes 1.9 s after its request, the CPU free meanwhile (so /status answers at
  // once), and the replay keeps requests out back to back: when the deadline decides, some are
  // out for about another second. No hot function, so no heap scan: the replay starts at the
  // listen (a scan took 8 s on Node 26 in a loaded suite, past a deadline, and no marker was placed).
  // Whether a replay is still out when the test looks depends on the machine's load (one CI run
  // on Node 22 found none): a boot where none was is tried again, up to three times, as it shows
  // nothing; the marker's and quarantine's checks hold for every boot.
  let markerThen = false;
  for (let boot = 0; boot < 3 && !markerThen; boot++) {
    const dir = guestProfile(['/ok', '/a', '/b'].map((url) => ({ url, status: 200 })));
    const file = path.join(dir, 'profile.json');
    fs.writeFileSync(file, JSON.stringify({ ...(JSON.parse(fs.readFileSync(file, 'utf8')) as WarmupProfile), hotFunctions: [] }));
    const port = await freePort();
    const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), GUEST_SLEEP_MS: '1900', PREHEAT_DEADLINE_MS: '4000' });
    const replaying = await pollStatus(port, (x) => !['waiting-for-server', 'indexing'].includes(x.phase), 100_000);
    const decided = await pollStatus(port, (x) => x.phase === 'deadline', 100_000);
    markerThen = fs.readdirSync(dir).some((n) => n.startsWith('warming-'));
    const end = await s.stop();
    t.true(['replaying', 'optimizing'].includes(replaying.phase), JSON.stringify(replaying));
    t.true(decided.ready, JSON.stringify(decided));
    t.is(end.signal, 'SIGTERM');
    if (!markerThen) t.log(`boot ${boot}: no replay was out when the deadline was seen: ${JSON.stringify(decided)}`);
    t.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('warming-')), [], 'the signal took the marker away');
    t.false(fs.existsSync(path.join(dir, 'quarantine.json')));
  }
  t.true(markerThen, 'the replay was still running when the signal came, in one boot of three (else this test shows nothing)');
});

test('a warm-up that ended normally leaves no marker behind: the next boot warms again', async (t) => {
  const dir = guestProfile([{ url: '/ok' }]);
  for (let boot = 0; boot < 2; boot++) {
    const port = await freePort();
    const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(port), ...patient });
    const status = await pollStatus(port, (x) => x.ready, 100_000);
    await s.stop();
    // This test is about a warm-up that ended on its own (a signal before its end removes the marker too).
    t.is(status.phase, 'ready', `boot ${boot}: ${status.reason}`);
    t.true(status.replayed > 0, `boot ${boot}: ${status.reason}`);
    t.is(warnings(s.stderr()).length, 0, s.stderr());
  }
  t.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('warming-')), []);
});

test('replay never keeps alive a server the app closed: the app exits on its own', async (t) => {
  const dir = guestProfile([{ url: '/ok' }]);
  const g = startGuest({ PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(await freePort()), PREHEAT_DEADLINE_MS: '600000', GUEST_CLOSE_AFTER_MS: '300' });
  const end = await g.exited;
  t.is(end.signal, null, 'not killed by the test: it ended by itself');
  t.is(end.code, 0);
  t.regex(g.stdout(), /closed/);
});

test('PREHEAT_PORT equal to the app port: the app listens, the readiness server steps aside with one warning', async (t) => {
  const port = await freePort();
  const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: guestProfile([{ url: '/ok' }]), PREHEAT_PORT: String(port), GUEST_PORT: String(port) });
  const answer = await get(port, '/ok');
  await new Promise((r) => setTimeout(r, 300));
  const end = await s.stop();
  t.is(s.port, port);
  t.is(answer.status, 200);
  t.regex(answer.body, /^-?\d+$/, 'the app answered, not the readiness server');
  t.is(end.signal, 'SIGTERM');
  t.deepEqual(warnings(s.stderr()).map((l) => /\[(PREHEAT_W\d+)\]/.exec(l)?.[1]), ['PREHEAT_W015'], s.stderr());
});

test('an HTTPS server is warmed over loopback TLS like an HTTP one', async (t) => {
  const { key, cert } = testCertificate;
  const port = await freePort();
  const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: guestProfile([{ url: '/ok' }]), PREHEAT_PORT: String(port), GUEST_TLS_KEY: key, GUEST_TLS_CERT: cert, GUEST_LOG_REQUESTS: '1', ...patient });
  const status = await pollStatus(port, (x) => x.ready, 60_000);
  await s.stop();
  t.is(status.phase, 'ready', status.reason);
  t.true(status.replayed > 0);
  // TLS works when the replayed requests are answered. A loaded machine (the whole suite and more
  // on 2 cores) once let one handshake run past the replay's 2 s timeout: a few may fail, not most.
  t.true(status.errors <= status.replayed / 10, JSON.stringify(status));
  t.regex(s.stderr(), /^request \{"method":"GET","url":"\/ok"/m);
});

test('in auto mode an app that never listens is recorded from its start, warm-up or not', async (t) => {
  const dir = guestProfile([{ url: '/ok' }]);
  const g = startGuest({ PREHEAT_MODE: 'auto', PREHEAT_DIR: dir, PREHEAT_WINDOW_MS: '300', PREHEAT_PERIOD_MS: '300', GUEST_NEVER_LISTEN: '1' });
  // Windows end every 300 ms: wait until this process's own file holds a window.
  const own = () => fs.readdirSync(dir).filter((n) => /^profile\.(?!base-).+\.json$/.test(n) && n !== 'profile.json');
  const hasWork = () => own().some((n) => fs.readFileSync(path.join(dir, n), 'utf8').includes('"name": "work"'));
  for (let i = 0; i < 300 && !hasWork(); i++) await new Promise((r) => setTimeout(r, 100));
  g.child.kill('SIGTERM');
  const end = await g.exited;
  t.is(end.signal, 'SIGTERM');
  t.is(own().length, 1, g.stderr());
  const recorded = JSON.parse(fs.readFileSync(path.join(dir, own()[0]!), 'utf8'));
  t.true(recorded.hotFunctions.some((f: { name: string }) => f.name === 'work'), JSON.stringify(recorded.hotFunctions.slice(0, 5)));
});
