import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crashedWarmups, MARKER_PAGE_BYTES, markerPage, placeMarker, retireMarkers, writeSuspectsTo } from '../../src/warmup/crash-marker';
import { tempDir } from '../helpers/run';

const key = (i: number) => i.toString(16).padStart(12, '0');

test('a marker is one page, and holds 256 suspects (the most PREHEAT_REPLAY_CONCURRENCY lets fly) beside the longest header', (t) => {
  const info = { host: 'h'.repeat(64), pid: 4_194_304, startedAt: Date.now(), limitMs: 3_600_000 };
  const keys = Array.from({ length: 256 }, (_, i) => key(i));
  const page = markerPage(info, keys);
  t.is(page.length, MARKER_PAGE_BYTES);
  t.deepEqual(JSON.parse(page.toString('utf8')), { ...info, suspects: keys });
  // Every rewrite covers the last one whole: a record of fewer suspects is the same size.
  t.is(markerPage(info, []).length, MARKER_PAGE_BYTES);
});

test("a dead warm-up's marker names the suspects last written, by the main thread or by another writer of the same file", (t) => {
  const dir = tempDir();
  const marker = placeMarker(dir, 10_000)!;
  t.truthy(marker);
  t.is(fs.statSync(marker.file).mode & 0o777, 0o600);
  t.is(fs.statSync(marker.file).size, MARKER_PAGE_BYTES);
  // A marker of this pid counts as dead (a restarted container reuses its pid): what a later boot sees.
  t.deepEqual(crashedWarmups(dir)[0]!.suspects, []);
  marker.writeSuspects([key(1), key(2)]);
  t.deepEqual(crashedWarmups(dir)[0]!.suspects, [key(1), key(2)]);
  writeSuspectsTo(marker.file, marker.info, [key(3)]);
  t.deepEqual(crashedWarmups(dir)[0]!.suspects, [key(3)]);
  marker.clear();
  t.deepEqual(crashedWarmups(dir), []);
  // Removed: the worker's late write does not bring it back.
  writeSuspectsTo(marker.file, marker.info, [key(4)]);
  t.false(fs.existsSync(marker.file));
});

test('a marker is untrusted data: suspects that are not keys are dropped, the marker still counts', (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'warming-x-1-00000000.json');
  fs.writeFileSync(file, JSON.stringify({ host: 'elsewhere', pid: 1, startedAt: 0, limitMs: 0, suspects: [key(5), '../../etc', 7, key(5)] }));
  t.deepEqual(crashedWarmups(dir).map((c) => c.suspects), [[key(5)]]);
});

test('a crashed marker is retired once a newer profile exists, unless its suspects are not quarantined yet', (t) => {
  const dir = tempDir();
  const marker = placeMarker(dir, 10_000)!;
  marker.writeSuspects([key(1)]);
  retireMarkers(dir, Date.now() + 1000, Date.now(), (m) => (m.suspects?.length ?? 0) > 0);
  t.true(fs.existsSync(marker.file));
  retireMarkers(dir, Date.now() + 1000);
  t.false(fs.existsSync(marker.file));
});
