import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parseProfile } from '../../src/profile/schema';
import { agent, cleanEnv, fixture, record, tempDir, warnings, type Run } from '../helpers/run';

const textIndex = fixture('programs', 'text-index', 'main.js');

/**
 * Runs text-index under the agent with a kill timer: a read that hangs shows as a killed run
 * (code null) instead of a test that never ends. The timer is a safety net, not an assertion.
 */
function runAgent(dir: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', agent, textIndex, '300'], {
      env: cleanEnv({ PREHEAT_DIR: dir, ...env }),
      cwd: path.dirname(textIndex),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const specials: [string, (file: string) => void | Promise<() => void>, RegExp][] = [
  ['a FIFO with no writer', (f) => void execFileSync('mkfifo', [f]), /it is a named pipe \(FIFO\), not a regular file/],
  ['a link to /dev/zero', (f) => fs.symlinkSync('/dev/zero', f), /it is a character device, not a regular file/],
  ['a directory', (f) => fs.mkdirSync(f), /it is a directory, not a regular file/],
  [
    'a Unix socket',
    (f) =>
      new Promise((resolve) => {
        const server = net.createServer().listen(f, () => resolve(() => server.close()));
      }),
    /it is a socket, not a file/,
  ],
  [
    'a huge file',
    (f) => {
      const fd = fs.openSync(f, 'w');
      fs.ftruncateSync(fd, 65 * 1024 * 1024);
      fs.closeSync(fd);
    },
    /it is 68157440 bytes, more than the 67108864 a profile may have/,
  ],
];

for (const [label, make, reason] of specials) {
  test(`profile.json as ${label}: the app runs, one warning, a cold start, the file left as it is`, async (t) => {
    const dir = tempDir();
    const file = path.join(dir, 'profile.json');
    const cleanup = await make(file);
    const before = fs.lstatSync(file);
    const r = await runAgent(dir, { PREHEAT_MODE: 'auto' });
    const after = fs.lstatSync(file);
    if (typeof cleanup === 'function') t.teardown(cleanup);
    t.is(r.signal, null, 'the app was not killed by the test timer');
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'rounds=true best=true\n');
    const w = warnings(r.stderr);
    t.is(w.length, 1, r.stderr);
    t.regex(w[0]!, reason);
    t.regex(w[0]!, /profile\.json cannot be used: .*; left as it is \[PREHEAT_W005\]/);
    t.is(after.ino, before.ino, 'not moved, not replaced');
    t.is(after.mode, before.mode);
    t.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('profile.json')), ['profile.json']);
    // The recording is saved all the same, in the process's own file.
    t.is(fs.readdirSync(dir).filter((f) => /^profile\.[A-Za-z0-9_-]+\.json$/.test(f)).length, 1);
  });
}

test('a profile.json linked from elsewhere (a mounted ConfigMap) is read and the link is kept', async (t) => {
  const dir = tempDir();
  const first = tempDir();
  await record([textIndex, '400'], first);
  const mounted = path.join(tempDir(), 'profile.json');
  fs.copyFileSync(path.join(first, 'profile.json'), mounted);
  fs.chmodSync(mounted, 0o444);
  const text = fs.readFileSync(mounted, 'utf8');
  fs.symlinkSync(mounted, path.join(dir, 'profile.json'));
  // Record mode: the writer runs (in auto mode it would wait for a warm-up this program never asks for).
  const r = await runAgent(dir, { PREHEAT_MODE: 'record', PREHEAT_LOG_LEVEL: 'debug' });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /preheat: profile from 1 file in .*: generation 1, \d+ hot functions/);
  t.deepEqual(warnings(r.stderr).filter((l) => /\[PREHEAT_W/.test(l)), []);
  t.true(fs.lstatSync(path.join(dir, 'profile.json')).isSymbolicLink());
  t.is(fs.readFileSync(mounted, 'utf8'), text);
  t.is(fs.readdirSync(dir).filter((f) => /^profile\.[A-Za-z0-9_-]+\.json$/.test(f)).length, 1, 'the recording is in its own file');
});

test('what the agent writes is private: files 0600, the directories it creates 0700', async (t) => {
  const dir = path.join(tempDir(), 'nested', '.preheat');
  const r = await record([textIndex, '400'], dir);
  t.is(r.code, 0, r.stderr);
  const mode = (p: string) => fs.statSync(p).mode & 0o777;
  t.is(mode(dir), 0o700);
  t.is(mode(path.dirname(dir)), 0o700);
  const files = fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile());
  t.true(files.includes('profile.json'));
  t.true(files.some((f) => f.endsWith('.cpuprofile')));
  t.true(files.some((f) => /^profile\.[A-Za-z0-9_-]+\.json$/.test(f)));
  for (const f of files) t.is(mode(path.join(dir, f)), 0o600, f);
  const cache = path.join(dir, 'compile-cache');
  if (fs.existsSync(cache)) t.is(mode(cache), 0o700);
});

test('temporary files left by killed writers are cleaned up once older than a minute; fresh ones and foreign ones stay', async (t) => {
  const dir = tempDir();
  const old = Date.now() / 1000 - 600;
  const stale = ['profile.json.4242.k3j2h1.tmp', 'profile.json.1.0a1b2c3d.tmp', 'preheat-2026-01-01T00-00-00-000Z-7-1.cpuprofile.7.abc123.tmp', 'quarantine.json.4242.0a1b2c3d.tmp'];
  const kept = ['profile.json.4343.fresh1.tmp', 'notes.txt.12.abc.tmp'];
  for (const f of [...stale, ...kept]) fs.writeFileSync(path.join(dir, f), '{"half": ');
  for (const f of [...stale, kept[1]!]) fs.utimesSync(path.join(dir, f), old, old);
  const r = await record([textIndex, '400'], dir);
  t.is(r.code, 0, r.stderr);
  const left = fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));
  t.deepEqual(left.sort(), [...kept].sort());
});

test('a profile.json of another schema version is skipped with one warning, never moved or replaced', async (t) => {
  const dir = tempDir();
  const future = JSON.stringify({ tool: 'preheat', schemaVersion: 2, hotFunctions: 'elsewhere' });
  fs.writeFileSync(path.join(dir, 'profile.json'), future);
  for (const mode of ['auto', 'record', 'warm']) {
    const r = await runAgent(dir, { PREHEAT_MODE: mode });
    t.is(r.code, 0, r.stderr);
    const w = warnings(r.stderr);
    t.is(w.length, 1, r.stderr);
    t.regex(w[0]!, /schema version 2; this preheat reads version 1; left as it is for the preheat that reads it \[PREHEAT_W005\]/);
  }
  t.is(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8'), future);
  t.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.bad')), []);
});

test('a per-process file of another version is left alone while the others are read', async (t) => {
  const dir = tempDir();
  await record([textIndex, '400'], dir);
  const foreign = path.join(dir, 'profile.other-version_1_x_y.json');
  const text = JSON.stringify({ tool: 'preheat', schemaVersion: 7, generation: 99 });
  fs.writeFileSync(foreign, text);
  const old = Date.now() / 1000 - 30 * 24 * 3600;
  fs.utimesSync(foreign, old, old);
  const r = await runAgent(dir, { PREHEAT_MODE: 'record', PREHEAT_LOG_LEVEL: 'debug' });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /preheat: profile from 1 file in /);
  t.is(warnings(r.stderr).filter((l) => /\[PREHEAT_W005\]/.test(l)).length, 1);
  t.is(fs.readFileSync(foreign, 'utf8'), text);
  const view = parseProfile(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8'));
  t.true(view.ok);
  t.is((view as { profile: { generation: number } }).profile.generation, 2, 'the other version\'s generation does not count');
});
