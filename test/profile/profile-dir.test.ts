import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mergeGenerations } from '../../src/profile/merge';
import { baseInstanceId, filesToRetire, instanceFileName, mergedProfile, newestGeneration, newInstanceId, readProfileDir } from '../../src/profile/profile-dir';
import type { WarmupProfile } from '../../src/profile/schema';
import { serializeProfile } from '../../src/profile/store';
import { profileOf } from '../helpers/profiles';
import { tempDir } from '../helpers/run';

const settings = { decay: 0.5, maxFunctions: 500, maxRequests: 200 };
const self = (p: WarmupProfile | null, name: string) => p?.hotFunctions.find((f) => f.name === name)?.selfSamples;

function own(id: string, generation: number, functions: Parameters<typeof profileOf>[0]): WarmupProfile {
  return profileOf(functions, { generation, instances: [id] });
}

function put(dir: string, name: string, p: WarmupProfile) {
  fs.writeFileSync(path.join(dir, name), serializeProfile(p));
}

test('instance ids differ even for the same host, pid and start time, and make valid file names', (t) => {
  const a = newInstanceId('web-1.example', 1, 1_700_000_000_000);
  const b = newInstanceId('web-1.example', 1, 1_700_000_000_000);
  t.not(a, b);
  t.regex(instanceFileName(a), /^profile\.web-1-example_1_[0-9a-z]+_[0-9a-f]{12}\.json$/);
});

test('workers of one generation add up; a baseline they all started from is counted once', (t) => {
  const dir = tempDir();
  put(dir, 'profile.json', profileOf([{ name: 'base', selfSamples: 100, totalSamples: 100 }], { generation: 1 }));
  put(dir, instanceFileName('w1'), own('w1', 2, [{ name: 'a', line: 5, selfSamples: 10, totalSamples: 10 }]));
  put(dir, instanceFileName('w2'), own('w2', 2, [{ name: 'b', line: 6, selfSamples: 20, totalSamples: 20 }]));
  const snap = readProfileDir(dir);
  t.is(snap.main.kind === 'ok' && snap.main.role, 'base');
  t.is(newestGeneration(snap), 2);
  const merged = mergedProfile(snap, settings);
  t.is(self(merged, 'base'), 50, 'one decayed baseline, not one per worker');
  t.is(self(merged, 'a'), 10);
  t.is(self(merged, 'b'), 20);
  t.deepEqual(merged!.instances, ['w1', 'w2']);
});

test('a profile.json made of per-process files still in the directory is a view: not counted again', (t) => {
  const dir = tempDir();
  const w1 = own('w1', 1, [{ name: 'a', selfSamples: 10, totalSamples: 10 }]);
  put(dir, instanceFileName('w1'), w1);
  put(dir, 'profile.json', mergeGenerations([w1], 0.5, 500));
  const snap = readProfileDir(dir);
  t.is(snap.main.kind === 'ok' && snap.main.role, 'view');
  t.is(self(mergedProfile(snap, settings), 'a'), 10);
  // Copied alone into an image, the same file is the profile.
  const image = tempDir();
  fs.copyFileSync(path.join(dir, 'profile.json'), path.join(image, 'profile.json'));
  t.is(self(mergedProfile(readProfileDir(image), settings), 'a'), 10);
});

test('a function whose source changed keeps only the newest generation\'s counts', (t) => {
  const old = own('o', 1, [{ name: 'f', selfSamples: 100, totalSamples: 100, sourceHash: 'sha256:aaaaaaaaaaaaaaaa' }]);
  const now = own('n', 2, [{ name: 'f', selfSamples: 3, totalSamples: 3, sourceHash: 'sha256:bbbbbbbbbbbbbbbb' }]);
  const merged = mergeGenerations([old, now], 0.5, 500);
  t.is(self(merged, 'f'), 3);
  t.is(merged.hotFunctions[0]!.sourceHash, 'sha256:bbbbbbbbbbbbbbbb');
});

test('per-process files retire when their weight falls under a hundredth, then past the count', (t) => {
  const files = [1, 2, 8, 9, 9].map((g, i) => ({ id: `i${i}`, file: `f${i}`, profile: own(`i${i}`, g, [{ selfSamples: 1, totalSamples: 1 }]) }));
  t.deepEqual(filesToRetire(files, 9, 0.5).map((f) => f.id), ['i0', 'i1']);
  t.deepEqual(filesToRetire(files, 9, 1).map((f) => f.id), []);
  t.deepEqual(filesToRetire(files, 9, 1, 2).map((f) => f.id).sort(), ['i0', 'i1', 'i2']);
});

test('unusable files in the directory are listed as skipped and the rest is read', (t) => {
  const dir = tempDir();
  put(dir, instanceFileName('ok1'), own('ok1', 1, [{ name: 'a', selfSamples: 1, totalSamples: 1 }]));
  fs.writeFileSync(path.join(dir, instanceFileName('v9')), JSON.stringify({ tool: 'preheat', schemaVersion: 9 }));
  fs.writeFileSync(path.join(dir, instanceFileName('cut')), '{"tool": "preheat", "sche');
  fs.writeFileSync(path.join(dir, 'profile.json.123.abc.tmp'), '{');
  const snap = readProfileDir(dir);
  t.deepEqual(snap.instances.map((i) => i.id), ['ok1']);
  t.deepEqual(snap.skipped.map((s) => [path.basename(s.file), s.otherVersion]).sort(), [
    [instanceFileName('cut'), false],
    [instanceFileName('v9'), true],
  ]);
});

test('a baked profile.json already kept as profile.base-<hash>.json is not counted twice', (t) => {
  const dir = tempDir();
  const baked = profileOf([{ name: 'baked', selfSamples: 8, totalSamples: 8 }], { generation: 4 });
  put(dir, 'profile.json', baked);
  const text = serializeProfile(readProfileDir(dir).main.kind === 'ok' ? (readProfileDir(dir).main as { profile: WarmupProfile }).profile : baked);
  const id = baseInstanceId(text);
  put(dir, instanceFileName(id), { ...baked, instances: [id] });
  const snap = readProfileDir(dir);
  t.is(snap.main.kind === 'ok' && snap.main.role, 'view');
  t.is(self(mergedProfile(snap, settings), 'baked'), 8);
});
