import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseProfile, type WarmupProfile } from '../../src/profile/schema';
import { cleanEnv, cli, fixture, readJson, run, tempDir } from '../helpers/run';

const textIndex = fixture('programs', 'text-index', 'main.js');
const preheat = (args: string[], cwd?: string) => run(process.execPath, [cli, ...args], { env: cleanEnv(), cwd });

test('preheat record runs the command under the agent and passes its exit code on', async (t) => {
  const dir = tempDir();
  const r = await preheat(['record', '--dir', dir, '--', process.execPath, textIndex, '600'], path.dirname(textIndex));
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /rounds=true/);
  t.regex(r.stderr, /preheat: \S+: generation 1, \d+ hot functions; hottest: .*(scoreDocument lib\/score\.js|search main\.js)/);
  t.true(parseProfile(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8')).ok);

  const failing = await preheat(['record', '--dir', dir, '--', process.execPath, fixture('programs', 'quick-exit.js'), '5']);
  t.is(failing.code, 5);
});

test('preheat record without a command, or with one that does not exist, says so', async (t) => {
  const none = await preheat(['record', '--dir', tempDir()]);
  t.is(none.code, 2);
  t.regex(none.stderr, /record needs a command after `--`/);
  const missing = await preheat(['record', '--', 'no-such-command-preheat']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /cannot run "no-such-command-preheat": spawn no-such-command-preheat ENOENT \[PREHEAT_ERR_INPUT\]/);
});

test('preheat merge sums instance profiles into one fleet profile', async (t) => {
  const [a, b, out] = [tempDir(), tempDir(), path.join(tempDir(), 'fleet', 'profile.json')];
  await preheat(['record', '--dir', a, '--', process.execPath, textIndex, '400'], path.dirname(textIndex));
  await preheat(['record', '--dir', b, '--', process.execPath, textIndex, '400'], path.dirname(textIndex));
  const r = await preheat(['merge', path.join(a, 'profile.json'), path.join(b, 'profile.json'), '--out', out]);
  t.is(r.code, 0, r.stderr);
  const [pa, pb, merged] = [a, b, path.dirname(out)].map((d) => readJson<WarmupProfile>(path.join(d, 'profile.json')));
  t.is(merged.samples.busy, pa!.samples.busy + pb!.samples.busy);
  const score = (p: WarmupProfile) => p.hotFunctions.find((f) => f.name === 'scoreDocument')!.selfSamples;
  t.is(score(merged!), score(pa!) + score(pb!));
});

test('preheat merge refuses a bad input by name and writes nothing', async (t) => {
  const dir = tempDir();
  const bad = path.join(dir, 'bad.json');
  fs.writeFileSync(bad, '{"tool": "preheat", "schemaVersion": 1, "hotF');
  const out = path.join(dir, 'out.json');
  const r = await preheat(['merge', bad, '--out', out]);
  t.is(r.code, 1);
  t.is(r.stderr, `preheat: ${bad} cannot be merged: it is truncated (the JSON ends early) [PREHEAT_ERR_INPUT]\n`);
  t.false(fs.existsSync(out));
  t.true(fs.existsSync(bad), 'the input is left where it was');
  const usage = await preheat(['merge', bad]);
  t.is(usage.code, 2);
  t.regex(usage.stderr, /merge needs --out <file>/);
});

test('unknown commands and help', async (t) => {
  const unknown = await preheat(['recrod']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown command "recrod"/);
  const help = await preheat(['help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /preheat record/);
  const version = await preheat(['--version']);
  t.is(version.stdout.trim(), readJson(path.join(__dirname, '..', '..', '..', 'package.json')).version);
});
