import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mergedProfile, readProfileDir } from '../../src/profile/profile-dir';
import { serializeProfile } from '../../src/profile/store';
import { profileOf } from '../helpers/profiles';
import { agent, cleanEnv, fixture, run, tempDir, warnings } from '../helpers/run';

const pair = fixture('programs', 'cluster-pair', 'main.js');

function underAgent(args: string[], env: NodeJS.ProcessEnv) {
  return run(process.execPath, ['--require', agent, pair, ...args], { env: cleanEnv(env), cwd: path.dirname(pair) });
}

/** Records the two-worker fixture: worker a writes a window, worker b runs and exits, then a exits. */
async function recordPair(t: { is: (a: unknown, b: unknown, m?: string) => void; deepEqual: (a: unknown, b: unknown, m?: string) => void }) {
  const dir = tempDir();
  const r = await underAgent([], { PREHEAT_MODE: 'record', PREHEAT_DIR: dir, PREHEAT_WINDOW_MS: '300', PREHEAT_PERIOD_MS: '300' });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'b exited 0\na exited 0\n');
  t.deepEqual(warnings(r.stderr), []);
  return dir;
}

const names = (p: { hotFunctions: { name: string }[] } | null) => new Set(p?.hotFunctions.map((f) => f.name));

test('cluster workers recording into one PREHEAT_DIR each keep their samples, in files of their own', async (t) => {
  const dir = await recordPair(t);
  const own = fs.readdirSync(dir).filter((f) => /^profile\.[A-Za-z0-9_-]+\.json$/.test(f));
  t.true(own.length >= 2, own.join(', '));
  const merged = mergedProfile(readProfileDir(dir), { decay: 0.5, maxFunctions: 500, maxRequests: 200 });
  t.true(names(merged).has('hotA'), [...names(merged)].join(', '));
  t.true(names(merged).has('hotB'), [...names(merged)].join(', '));
  // profile.json, the merged view the last writer left, has both as well.
  const view = JSON.parse(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8'));
  t.true(names(view).has('hotA') && names(view).has('hotB'), [...names(view)].join(', '));
});

test('warm mode warms from the merge of the per-process files, not from profile.json alone', async (t) => {
  const dir = await recordPair(t);
  // Without the view, only the per-process files are left to read.
  fs.unlinkSync(path.join(dir, 'profile.json'));
  const r = await underAgent(['noop'], { PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_LOG_LEVEL: 'debug' });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'noop\n');
  t.deepEqual(warnings(r.stderr).filter((l) => /\[PREHEAT_W/.test(l)), []);
  const line = r.stderr.split('\n').find((l) => /^preheat: profile from \d+ files? in /.test(l));
  t.truthy(line, r.stderr);
  t.regex(line!, /\bhotA\b/);
  t.regex(line!, /\bhotB\b/);
});

test('a baked profile.json is kept when recording starts beside it, and counted once', async (t) => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'profile.json'), serializeProfile(profileOf([{ name: 'bakedOnly', file: 'lib/none.js', selfSamples: 10, totalSamples: 10 }])));
  const textIndex = fixture('programs', 'text-index', 'main.js');
  const r = await run(process.execPath, ['--require', agent, textIndex, '400'], {
    env: cleanEnv({ PREHEAT_MODE: 'record', PREHEAT_DIR: dir }),
    cwd: path.dirname(textIndex),
  });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(warnings(r.stderr), []);
  const kept = fs.readdirSync(dir).filter((f) => /^profile\.base-[0-9a-f]{16}\.json$/.test(f));
  t.is(kept.length, 1, fs.readdirSync(dir).join(', '));
  const merged = mergedProfile(readProfileDir(dir), { decay: 0.5, maxFunctions: 500, maxRequests: 200 });
  // The baked generation (1) is one behind this recording's: its counts at half weight, once.
  t.is(merged!.hotFunctions.find((f) => f.name === 'bakedOnly')!.selfSamples, 5);
  t.true(merged!.hotFunctions.some((f) => f.name === 'scoreDocument'));
  // The view written over profile.json says the same.
  const view = JSON.parse(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8'));
  t.is(view.hotFunctions.find((f: { name: string }) => f.name === 'bakedOnly').selfSamples, 5);
});
