import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseProfile } from '../../src/profile/schema';
import { fixture, record, tempDir, warnings } from '../helpers/run';

const textIndex = fixture('programs', 'text-index', 'main.js');

const cases: [string, string, RegExp][] = [
  ['corrupt', '\u0000\u00ff garbage {{{', /it is not valid JSON/],
  ['truncated', '{"schemaVersion": 1, "tool": "preheat", "hotFunctions": [{"name": "tok', /it is truncated/],
  ['foreign', JSON.stringify({ nodes: [], startTime: 0, endTime: 1 }), /it is not a preheat profile/],
  ['from a future schema', JSON.stringify({ tool: 'preheat', schemaVersion: 99 }), /schema version 99; this preheat reads version 1/],
  ['empty', '', /it is not valid JSON|truncated/],
];

for (const [label, content, reason] of cases) {
  for (const mode of ['record', 'auto']) {
    test(`a ${label} profile.json is warned about once in ${mode} mode and left as it is; the recording is saved beside it`, async (t) => {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, 'profile.json'), content);
      const r = await record([textIndex, '500'], dir, { PREHEAT_MODE: mode });
      t.is(r.code, 0);
      const w = warnings(r.stderr);
      t.is(w.length, 1, r.stderr);
      t.regex(w[0]!, reason);
      t.regex(w[0]!, /profile\.json cannot be used: .*; left as it is.* \[PREHEAT_W005\]/);
      t.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('profile.json')), ['profile.json'], 'nothing moved aside');
      t.is(fs.readFileSync(path.join(dir, 'profile.json'), 'utf8'), content, 'the bad file is kept as it was');
      const own = fs.readdirSync(dir).filter((f) => /^profile\.[A-Za-z0-9_-]+\.json$/.test(f));
      t.is(own.length, 1);
      t.true(parseProfile(fs.readFileSync(path.join(dir, own[0]!), 'utf8')).ok);
    });
  }
}

test('an unwritable directory is one warning and the app still exits cleanly', async (t) => {
  const dir = tempDir();
  const blocked = path.join(dir, 'file-not-dir');
  fs.writeFileSync(blocked, 'x');
  const r = await record([textIndex, '400'], blocked);
  t.is(r.code, 0);
  t.deepEqual(warnings(r.stderr), [
    `preheat: cannot write into ${blocked} (EEXIST: file already exists, mkdir '${blocked}'); nothing will be saved [PREHEAT_W006]`,
  ]);
  t.regex(r.stdout, /rounds=true/);
});
