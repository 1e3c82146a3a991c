import test from 'ava';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { functionHash, indexSource } from '../../src/profile/source-hash';
import { markerPage } from '../../src/warmup/crash-marker';
import { guest, startUnderAgent } from '../helpers/guest';
import { profileOf } from '../helpers/profiles';
import { agent, cleanEnv, cli, repo, run, tempDir } from '../helpers/run';
import { freePort, pollStatus } from '../helpers/service';

interface Doctor {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: Map<string, { status: string; summary: string }>;
}

/** `preheat doctor` in `cwd`, read as a person reads it: one line per check. */
async function doctor(cwd: string, env: NodeJS.ProcessEnv, args: string[] = [], bin = cli): Promise<Doctor> {
  const r = await run(process.execPath, [bin, 'doctor', ...args], { cwd, env: cleanEnv(env) });
  const lines = new Map<string, { status: string; summary: string }>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(ok|warn|fail)\s+(\S+)\s+(.*)$/.exec(line);
    if (m) lines.set(m[2]!, { status: m[1]!, summary: m[3]! });
  }
  return { ...r, lines };
}

const APP = `'use strict';
function score(items) {
  let total = 0;
  for (const item of items) total += item.price * item.count;
  return total;
}
function render(total) {
  return '<p>' + total + '</p>';
}
module.exports = { score, render };
`;

/** An app folder with a profile whose hot functions carry the hashes of APP's functions, as a recording would. */
function appWithProfile(updatedAt = new Date()): string {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'doctor-app', version: '1.0.0' }));
  fs.writeFileSync(path.join(dir, 'app.js'), APP);
  const index = indexSource(APP)!;
  const at = (name: string) => {
    const offset = APP.indexOf(`${name}(`) + name.length; // V8's position: the parameter list's '('
    const line = APP.slice(0, offset).split('\n').length;
    const column = offset - APP.lastIndexOf('\n', offset - 1);
    return { name, file: 'app.js', line, column, sourceHash: functionHash(index, line, column) };
  };
  const hot = [at('score'), at('render')];
  if (hot.some((h) => !h.sourceHash)) throw new Error('the fixture app lost its hashes');
  const profile = profileOf(
    hot.map((h, i) => ({ ...h, selfSamples: 60 - i * 30, totalSamples: 60 })),
    { appRoot: dir, generation: 3, createdAt: updatedAt.toISOString(), updatedAt: updatedAt.toISOString(), requests: [{ method: 'GET', url: '/cart', headers: {}, count: 40, status: 200, latencyMs: 1.5 }] },
  );
  fs.mkdirSync(path.join(dir, '.preheat'));
  fs.writeFileSync(path.join(dir, '.preheat', 'profile.json'), JSON.stringify(profile));
  return dir;
}

test('no profile: the profile check warns that the boot starts cold, and the exit code is 1', async (t) => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'app.js'), APP);
  const r = await doctor(dir, { PREHEAT_GATE_PATH: '/healthz', NODE_OPTIONS: `--require ${agent}` }, ['--', 'node', 'app.js']);
  t.is(r.lines.get('profile')?.status, 'warn', r.stdout);
  t.regex(r.lines.get('profile')!.summary, /no usable profile in .*\.preheat: the boot starts cold and records one/);
  t.is(r.lines.get('agent')?.status, 'ok', r.stdout);
  t.is(r.code, 1);
  t.is(r.stderr, '');
});

test('a good profile is described: generation, age, hot functions, requests with latencies; no stale function', async (t) => {
  const dir = appWithProfile(new Date(Date.now() - 3 * 3600_000));
  const r = await doctor(dir, { PREHEAT_GATE_PATH: '/healthz' }, ['--json', '--', 'node', 'app.js']);
  const out = JSON.parse(r.stdout) as { verdict: string; checks: { name: string; status: string; summary: string; facts?: any }[] };
  const profile = out.checks.find((c) => c.name === 'profile')!;
  t.is(profile.status, 'ok', profile.summary);
  t.regex(profile.summary, /generation 3, recorded 3 h ago, 2 hot functions, 1 requests \(1 with a steady latency\)$/);
  t.like(profile.facts, { generation: 3, hotFunctions: 2, requests: 1, checked: 2, stale: 0, gone: 0 });
  // The verdict is the worst line's, and the exit code says it.
  const worst = out.checks.some((c) => c.status === 'fail') ? 'fail' : out.checks.some((c) => c.status === 'warn') ? 'warn' : 'ok';
  t.is(out.verdict, worst);
  t.is(r.code, { ok: 0, warn: 1, fail: 3 }[worst]);
});

test('a warm-up that died and the requests it quarantined are warnings that say what the next boot does and how to clear them', async (t) => {
  const dir = appWithProfile();
  const store = path.join(dir, '.preheat');
  const check = async () => (await doctor(dir, { PREHEAT_GATE_PATH: '/healthz' }, ['--', 'node', 'app.js'])).lines.get('crashes');
  t.is((await check())?.status, 'ok');
  // A marker an hour old (its warm-up's limit long past) from another host: a warm-up that died.
  const key = 'a1b2c3d4e5f6';
  fs.writeFileSync(path.join(store, 'warming-elsewhere-1-00000000.json'), markerPage({ host: 'elsewhere', pid: 1, startedAt: Date.now() - 3_600_000, limitMs: 10_000 }, [key]), { mode: 0o600 });
  fs.writeFileSync(path.join(store, 'quarantine.json'), JSON.stringify({ version: 1, requests: [{ key, at: new Date().toISOString(), request: 'GET /boom' }] }), { mode: 0o600 });
  const found = await check();
  t.is(found?.status, 'warn');
  t.regex(found!.summary, /^1 warm-up from .*\.preheat died before ending \(the last on elsewhere, pid 1, .*\): the next boot starts cold/);
  t.regex(found!.summary, /1 request is quarantined \(GET \/boom\): .* remove .*quarantine\.json once fixed$/);
  fs.writeFileSync(path.join(store, 'quarantine.json'), '{"version": 1, "requests": [{"key": "not a key"}]}');
  t.regex((await check())!.summary, /quarantine\.json is not usable \(an entry has no valid key\)/);
});

test('an edit that only moves a hot function keeps the profile good; changing its body makes it stale', async (t) => {
  const dir = appWithProfile();
  fs.writeFileSync(path.join(dir, 'app.js'), `'use strict';\n// a comment that moves every function down a line\n${APP.slice(APP.indexOf('\n') + 1)}`);
  const moved = await doctor(dir, {}, ['--', 'node', 'app.js']);
  t.is(moved.lines.get('profile')?.status, 'ok', moved.stdout);

  fs.writeFileSync(path.join(dir, 'app.js'), APP.replace('item.price * item.count', 'item.price * item.count * (1 - item.discount)'));
  const stale = await doctor(dir, {}, ['--', 'node', 'app.js']);
  t.is(stale.lines.get('profile')?.status, 'warn', stale.stdout);
  t.regex(stale.lines.get('profile')!.summary, /1 of the app's 2 hot functions changed or are gone since recording \(score app\.js:2\): record again/);

  fs.rmSync(path.join(dir, 'app.js'));
  const gone = await doctor(dir, {}, ['--json']);
  t.like(JSON.parse(gone.stdout).checks.find((c: any) => c.name === 'profile').facts, { checked: 2, stale: 0, gone: 2 });
});

test('PREHEAT_PROFILE_DIR is where the profile is looked for, and the recording directory is checked apart', async (t) => {
  const baked = appWithProfile();
  const app = tempDir();
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'a' }));
  const r = await doctor(app, { PREHEAT_PROFILE_DIR: path.join(baked, '.preheat'), PREHEAT_DIR: path.join(app, 'rec') });
  t.regex(r.lines.get('profile')!.summary, new RegExp(`^${path.join(baked, '.preheat')}: generation 3`), r.stdout);
  t.regex(r.lines.get('recording-dir')!.summary, new RegExp(`^${path.join(app, 'rec')} is writable`));
});

/**
 * A copy of preheat whose node_modules has v8-profiler-next as npm 11 leaves it without
 * allowScripts (its files, no build), or has none at all (an optional dependency not installed).
 */
function preheatCopy(sampler: 'unbuilt' | 'absent'): string {
  const root = tempDir();
  for (const entry of ['dist', 'agent', 'bin', 'package.json']) fs.cpSync(path.join(repo, entry), path.join(root, entry), { recursive: true });
  const modules = path.join(root, 'node_modules');
  fs.mkdirSync(modules);
  for (const name of fs.readdirSync(path.join(repo, 'node_modules'))) {
    if (name === 'v8-profiler-next' || name.startsWith('.')) continue;
    fs.symlinkSync(path.join(repo, 'node_modules', name), path.join(modules, name));
  }
  if (sampler === 'unbuilt') {
    const from = path.join(repo, 'node_modules', 'v8-profiler-next');
    const to = path.join(modules, 'v8-profiler-next');
    fs.cpSync(from, to, { recursive: true, filter: (f) => !f.startsWith(path.join(from, 'build')) });
  }
  return path.join(root, 'bin', 'preheat.js');
}

test('a native sampler npm never built gets the allowScripts line to add; a missing one is named as not installed', async (t) => {
  const app = appWithProfile();
  // PREHEAT_SAMPLER unset, as a user has it (the test helpers set inspector where the addon is not built here).
  const unbuilt = await doctor(app, { PREHEAT_SAMPLER: '' }, ['--', 'node', 'app.js'], preheatCopy('unbuilt'));
  t.is(unbuilt.lines.get('sampler')?.status, 'warn', unbuilt.stdout + unbuilt.stderr);
  t.regex(unbuilt.lines.get('sampler')!.summary, /never built .*"allowScripts": \{ "v8-profiler-next": true \}.*npm rebuild v8-profiler-next.*node:inspector sampler records instead/);
  const absent = await doctor(app, { PREHEAT_SAMPLER: 'native' }, ['--', 'node', 'app.js'], preheatCopy('absent'));
  t.is(absent.lines.get('sampler')?.status, 'fail', absent.stdout);
  t.regex(absent.lines.get('sampler')!.summary, /v8-profiler-next is not installed .*PREHEAT_SAMPLER=native cannot start it/);
  t.is(absent.code, 3);
});

test('a readiness port taken by another program fails; one where a preheat agent answers warns', async (t) => {
  const app = appWithProfile();
  const other = http.createServer((_req, res) => res.end('hello')).listen(0, '127.0.0.1');
  await new Promise((r) => other.once('listening', r));
  try {
    const taken = await doctor(app, { PREHEAT_PORT: String((other.address() as AddressInfo).port) });
    t.is(taken.lines.get('readiness')?.status, 'fail', taken.stdout);
    t.regex(taken.lines.get('readiness')!.summary, /is taken by something else \(it answers HTTP 200\).*PREHEAT_W015/);
    t.is(taken.code, 3);
  } finally {
    other.close();
  }

  const port = await freePort();
  const s = startUnderAgent(guest, { PREHEAT_MODE: 'warm', PREHEAT_DIR: tempDir(), PREHEAT_PORT: String(port) });
  try {
    await pollStatus(port, (x) => x !== null);
    const busy = await doctor(app, { PREHEAT_PORT: String(port) });
    t.is(busy.lines.get('readiness')?.status, 'warn', busy.stdout);
    t.regex(busy.lines.get('readiness')!.summary, /a preheat agent already answers on 127\.0\.0\.1:\d+ \(\/ready: (200|503)\)/);
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
  const free = await doctor(app, { PREHEAT_PORT: String(port) });
  t.is(free.lines.get('readiness')?.status, 'ok', free.stdout);
});

test('doctor never starts the agent, though NODE_OPTIONS preloads it in record mode', async (t) => {
  const app = tempDir();
  const rec = path.join(app, 'rec');
  const r = await doctor(app, { NODE_OPTIONS: `--require ${agent}`, PREHEAT_MODE: 'record', PREHEAT_DIR: rec, PREHEAT_WINDOW_MS: '100', PREHEAT_PERIOD_MS: '100' });
  t.is(r.stderr, '');
  t.is(r.lines.get('agent')?.status, 'ok', r.stdout);
  t.false(fs.existsSync(rec), 'nothing was recorded');
});

test('a bad option is a warning line, and a command that is not node is checked with this Node, said so', async (t) => {
  const r = await doctor(tempDir(), { PREHEAT_DEADLINE_MS: 'soon' }, ['--', 'npm', 'start']);
  t.is(r.lines.get('settings')?.status, 'warn');
  t.regex(r.lines.get('settings')!.summary, /PREHEAT_DEADLINE_MS="soon" is not/);
  t.regex(r.lines.get('command')!.summary, /npm is not node: checked with the Node running this doctor/);
  const bad = await doctor(tempDir(), {}, ['--frobnicate']);
  t.is(bad.code, 2);
});
