import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { guest, guestProfile, patient, startGuest } from '../helpers/guest';
import { tempDir, warnings } from '../helpers/run';
import { bootService, freePort, pollStatus } from '../helpers/service';

// The replay client runs on a worker thread (src/warmup/replay-thread.ts). What shows it: Node's
// `http.client.request.start` channel is per thread, so the guest app (GUEST_WATCH_CLIENT) sees a
// request its main thread sends, and never one a worker sends, while its server serves both.
const SENT_FROM_MAIN = 'app: the main thread sent an HTTP request';
const SERVED = 'app: served a request';

async function warmGuest(env: NodeJS.ProcessEnv, nodeArgs: string[] = []) {
  const port = await freePort();
  const s = await bootService(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: guestProfile([{ url: '/ok' }]), PREHEAT_PORT: String(port), GUEST_WATCH_CLIENT: '1', ...patient, ...env }, nodeArgs);
  const status = await pollStatus(port, (x) => x.ready || x.phase === 'stopped', 100_000);
  await s.stop();
  return { status, stderr: s.stderr() };
}

test('PREHEAT_REPLAY_THREAD=worker replays from a worker thread: the app serves the replay, its main thread sends none of it', async (t) => {
  const { status, stderr } = await warmGuest({ PREHEAT_REPLAY_THREAD: 'worker' });
  t.is(status.phase, 'ready', status.reason);
  t.true(status.replayed >= 2000, `the count rule: ${status.replayed}`);
  t.is(status.replayThread, 'worker');
  t.true(stderr.includes(SERVED), stderr);
  t.false(stderr.includes(SENT_FROM_MAIN), stderr);
  t.deepEqual(warnings(stderr), []);
});

test("by default the replay runs on the app's main thread, as before (and the observable above sees that)", async (t) => {
  const { status, stderr } = await warmGuest({});
  t.is(status.phase, 'ready', status.reason);
  t.is(status.replayThread, 'main');
  t.true(stderr.includes(SENT_FROM_MAIN), stderr);
  t.deepEqual(warnings(stderr), []);
});

test("the app's preloads (command line and NODE_OPTIONS) do not reach the replay worker", async (t) => {
  const dir = tempDir();
  const probe = (name: string, esm = false) => {
    const file = path.join(dir, `${name}.${esm ? 'mjs' : 'js'}`);
    const threadId = esm ? `(await import('node:worker_threads')).threadId` : `require('node:worker_threads').threadId`;
    fs.writeFileSync(file, `process.stderr.write('probe ${name} in thread ' + ${threadId} + '\\n');\n`);
    return file;
  };
  // Node 20-26 run all four kinds of preload in a worker thread unless it is started without them.
  const { status, stderr } = await warmGuest({ PREHEAT_REPLAY_THREAD: 'worker', NODE_OPTIONS: `--require ${probe('env')} --import ${probe('env-esm', true)}` }, ['--require', probe('cli')]);
  t.is(status.phase, 'ready', status.reason);
  t.is(status.replayThread, 'worker');
  // The agent itself is preloaded the same way (--require): the worker does not load it either.
  t.deepEqual(stderr.split('\n').filter((l) => l.startsWith('probe')).sort(), ['probe cli in thread 0', 'probe env in thread 0', 'probe env-esm in thread 0']);
  t.deepEqual(warnings(stderr), []);
});

test('the replay worker never keeps the process alive: an app that closes its server mid-warm-up exits by itself', async (t) => {
  // The deadline is far: only the app's close can end this warm-up. The app closes its server once
  // it has served 200 requests, while the worker replays; `closed` comes once every connection has ended.
  const g = startGuest({
    PREHEAT_MODE: 'warm',
    PREHEAT_DIR: guestProfile([{ url: '/ok' }]),
    PREHEAT_PORT: String(await freePort()),
    PREHEAT_DEADLINE_MS: '600000',
    PREHEAT_LOG_LEVEL: 'debug',
    PREHEAT_REPLAY_THREAD: 'worker',
    GUEST_CLOSE_AFTER_REQUESTS: '200',
    GUEST_WATCH_CLIENT: '1',
  });
  let closedAt = 0;
  g.child.stdout.on('data', () => {
    if (!closedAt && g.stdout().includes('closed')) closedAt = Date.now();
  });
  const end = await g.exited;
  const exitedAt = Date.now();
  t.is(end.signal, null, 'not killed by the test: it ended by itself');
  t.is(end.code, 0);
  t.regex(g.stderr(), /the worker thread was ready to send/);
  t.false(g.stderr().includes(SENT_FROM_MAIN));
  t.true(closedAt > 0, g.stdout());
  t.true(exitedAt - closedAt < 2000, `exited ${exitedAt - closedAt} ms after the server closed`);
});

test('a request replayed from the worker that ends the process leaves the crash marker: the in-flight count crosses threads', async (t) => {
  const dir = guestProfile([{ url: '/ok' }, { url: '/boom' }]);
  const g = startGuest({ PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_REPLAY_THREAD: 'worker', ...patient });
  const end = await g.exited;
  t.is(end.code, 7, 'the replayed /boom ended the process');
  t.is(fs.readdirSync(dir).filter((n) => n.startsWith('warming-')).length, 1, g.stderr());
});

test('where the worker cannot be created (the permission model without --allow-worker), one warning and the main thread replays', async (t) => {
  const major = Number(process.versions.node.split('.')[0]);
  const permission = major >= 25 ? ['--permission', '--allow-net'] : major >= 22 ? ['--permission'] : ['--experimental-permission'];
  const { status, stderr } = await warmGuest({ PREHEAT_REPLAY_THREAD: 'worker' }, [...permission, '--allow-fs-read=*', '--allow-fs-write=*']);
  t.is(status.phase, 'ready', status.reason);
  t.is(status.replayThread, 'main');
  t.true(status.replayed > 0);
  t.true(stderr.includes(SENT_FROM_MAIN), stderr);
  const mine = warnings(stderr).filter((l) => l.includes('worker thread'));
  t.deepEqual(mine.length, 1, stderr);
  t.regex(mine[0]!, /^preheat: the replay's worker thread could not be created \(Access to this API has been restricted.*\); replaying on the app's main thread \[PREHEAT_W012\]$/);
  // The permission model also refuses node:inspector, which the heap scan uses: its own warning.
  t.deepEqual(
    warnings(stderr).filter((l) => !mine.includes(l)).map((l) => /\[(PREHEAT_W\d+)\]/.exec(l)?.[1]),
    ['PREHEAT_W012'],
    stderr,
  );
});
