import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseProfile, type WarmupProfile } from '../../src/profile/schema';
import { agent, cleanEnv, fixture, nativeSamplerBuilt, readJson, record, run, tempDir, warnings } from '../helpers/run';

const textIndex = fixture('programs', 'text-index', 'main.js');

function hottest(profile: WarmupProfile, n: number) {
  return profile.hotFunctions.slice(0, n).map((f) => `${f.name} ${f.file}`);
}

test('record mode names the hot functions of a CPU-bound program by name and file', async (t) => {
  const dir = tempDir();
  // Long enough that start-up (Node's, the agent's, the modules') stays a small part of the samples:
  // at 1500 rounds search's share fell to 0.596 on a loaded machine.
  const r = await record([textIndex, '3000'], dir);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(warnings(r.stderr), []);
  const text = fs.readFileSync(path.join(dir, 'profile.json'), 'utf8');
  const parsed = parseProfile(text);
  t.true(parsed.ok, text.slice(0, 200));
  const profile = (parsed as { profile: WarmupProfile }).profile;
  t.is(profile.generation, 1);
  t.is(profile.node, process.versions.node);
  t.is(profile.appRoot, path.dirname(textIndex));
  // V8 charges an inlined callee's samples to its caller: where tokenize is inlined into search
  // (V8 11.3–13.6 here), its time shows as search's own; V8 14.6 keeps it apart.
  const top = hottest(profile, 3);
  t.true(top.includes('scoreDocument lib/score.js'), top.join(', '));
  t.true(top.includes('tokenize lib/tokenize.js') || top.includes('search main.js'), top.join(', '));
  const tokenize = profile.hotFunctions.find((f) => f.name === 'tokenize')!;
  t.is(tokenize.file, 'lib/tokenize.js');
  t.is(tokenize.line, 3);
  t.is(tokenize.column, 18);
  t.regex(tokenize.sourceHash!, /^sha256:[0-9a-f]{16}$/);
  const score = profile.hotFunctions.find((f) => f.name === 'scoreDocument')!;
  t.true(score.share > 0.1 && score.share <= 1);
  // search calls the others: its total share holds theirs. Its absolute share depends on how much
  // of the run start-up took (0.41 in a loaded matrix run on Node 24, above 0.6 when the machine is quiet).
  const search = profile.hotFunctions.find((f) => f.name === 'search')!;
  t.true(search.totalShare > 0.3, String(search.totalShare));
  t.true(search.totalShare >= score.totalShare && search.totalShare >= tokenize.totalShare, JSON.stringify([search, score, tokenize].map((f) => [f.name, f.totalShare])));
  t.false(profile.hotFunctions.some((f) => /dist\/src|agent\//.test(f.file)), 'preheat itself is not part of the hot set');
});

test('the raw samples are written as a DevTools .cpuprofile with line ticks', async (t) => {
  const dir = tempDir();
  const r = await record([textIndex, '800'], dir);
  t.is(r.code, 0, r.stderr);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  t.is(files.length, 1);
  const cpu = readJson(path.join(dir, files[0]!));
  t.true(Array.isArray(cpu.nodes) && Array.isArray(cpu.samples) && Array.isArray(cpu.timeDeltas));
  t.is(cpu.samples.length, cpu.timeDeltas.length);
  const tokenize = cpu.nodes.find((n: any) => n.callFrame.functionName === 'tokenize');
  t.truthy(tokenize);
  t.regex(tokenize.callFrame.url, /^file:\/\/.*tokenize\.js$/);
  t.is(tokenize.callFrame.lineNumber, 2);
  t.true(tokenize.positionTicks.length > 0);
});

test('a second recording merges into the profile as the next generation', async (t) => {
  const dir = tempDir();
  await record([textIndex, '500'], dir);
  const first = readJson<WarmupProfile>(path.join(dir, 'profile.json'));
  const r = await record([textIndex, '500'], dir);
  t.is(r.code, 0, r.stderr);
  const second = readJson<WarmupProfile>(path.join(dir, 'profile.json'));
  t.is(second.generation, 2);
  t.is(second.createdAt, first.createdAt);
  // Decayed first run plus the second: more than either alone.
  t.true(second.samples.busy > first.samples.busy * 0.5 + 1);
});

test('the app keeps its stdout and its exit code, and short programs end on their own', async (t) => {
  const dir = tempDir();
  const program = fixture('programs', 'quick-exit.js');
  const bare = await run(process.execPath, [program, '7'], { env: cleanEnv() });
  const withAgent = await record([program, '7'], dir);
  t.is(withAgent.code, 7);
  t.is(withAgent.stdout, bare.stdout);
  t.is(withAgent.stderr, '');
});

test('a missing native addon falls back to the inspector sampler with one warning', async (t) => {
  const dir = tempDir();
  const r = await record([textIndex, '800'], dir, { PREHEAT_SAMPLER: 'auto' }, ['--require', fixture('preload', 'no-native-addon.js')]);
  t.is(r.code, 0);
  const w = warnings(r.stderr);
  t.is(w.length, 1, r.stderr);
  t.regex(w[0]!, /native sampler \(v8-profiler-next\) could not be loaded \(Cannot find module 'v8-profiler-next\/package.json'\); using the node:inspector sampler \[PREHEAT_W003\]/);
  const profile = readJson<WarmupProfile>(path.join(dir, 'profile.json'));
  t.true(hottest(profile, 3).includes('scoreDocument lib/score.js'));
});

test('the default sampler is the native addon where it is built for this Node, else the inspector with a warning', async (t) => {
  const dir = tempDir();
  const r = await record([textIndex, '400'], dir, { PREHEAT_SAMPLER: 'auto', PREHEAT_LOG_LEVEL: 'debug' });
  t.is(r.code, 0);
  if (nativeSamplerBuilt) {
    t.regex(r.stderr, /recording with the native sampler/);
    t.notRegex(r.stderr, /PREHEAT_W003/);
  } else {
    t.regex(r.stderr, /native sampler \(v8-profiler-next\) could not be loaded .*\[PREHEAT_W003\]/);
    t.regex(r.stderr, /recording with the inspector sampler/);
  }
  t.true(fs.existsSync(path.join(dir, 'profile.json')));
});

test('PREHEAT_SAMPLER=inspector records without loading the addon', async (t) => {
  const dir = tempDir();
  const r = await record([textIndex, '600'], dir, { PREHEAT_SAMPLER: 'inspector', PREHEAT_LOG_LEVEL: 'debug' });
  t.is(r.code, 0);
  t.regex(r.stderr, /recording with the inspector sampler/);
  t.true(fs.existsSync(path.join(dir, 'profile.json')));
});

test('bad settings give one line each and the defaults, and recording goes on', async (t) => {
  const dir = tempDir();
  const r = await record([textIndex, '600'], dir, { PREHEAT_WINDOW_MS: 'soon', PREHEAT_SAMPLERR: 'x' });
  t.is(r.code, 0);
  t.deepEqual(warnings(r.stderr), [
    'preheat: PREHEAT_WINDOW_MS="soon" is not an integer from 100 to 86400000 (milliseconds); using 60000 [PREHEAT_W001]',
    'preheat: unknown setting PREHEAT_SAMPLERR; ignored (did you mean PREHEAT_SAMPLER?) [PREHEAT_W002]',
  ]);
  t.true(fs.existsSync(path.join(dir, 'profile.json')));
});

test('PREHEAT_MODE=off leaves the app alone', async (t) => {
  const dir = tempDir();
  const r = await record([textIndex, '300'], dir, { PREHEAT_MODE: 'off' });
  t.is(r.code, 0);
  t.is(r.stderr, '');
  t.false(fs.existsSync(dir + '/profile.json'));
});

test('the agent loaded twice in one process starts once', async (t) => {
  const dir = tempDir();
  const copy = path.join(tempDir(), 'agent.js');
  // A second copy of the entry (as with two installs of preheat) gets past the module cache.
  fs.writeFileSync(copy, `require(${JSON.stringify(agent)}); require(${JSON.stringify(path.join(path.dirname(agent), '..', 'dist', 'src', 'agent', 'main.js'))}).startAgent();`);
  const r = await record([textIndex, '300'], dir, {}, ['--require', copy]);
  t.is(r.code, 0);
  t.deepEqual(warnings(r.stderr), [
    'preheat: the agent is already running in this process; the second start does nothing [PREHEAT_W007]',
  ]);
});

test('an ES module app preloaded with --import preheat/register is recorded', async (t) => {
  const dir = tempDir();
  const program = fixture('programs', 'esm-app.mjs');
  const r = await run(process.execPath, ['--import', path.join(path.dirname(agent), 'register.mjs'), program, '800'], {
    env: cleanEnv({ PREHEAT_MODE: 'record', PREHEAT_DIR: dir }),
    cwd: path.dirname(program),
  });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'done true\n');
  const profile = readJson<WarmupProfile>(path.join(dir, 'profile.json'));
  const crc = profile.hotFunctions.find((f) => f.name === 'crc');
  t.is(crc?.file, 'esm-app.mjs');
  t.regex(crc?.sourceHash ?? '', /^sha256:/);
  t.true(crc!.totalShare > 0.5);
});
