import test from 'ava';
import * as fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { edit, mutate } from '../helpers/mutate-profile';
import { agent, cleanEnv, fixture, run, tempDir, warnings } from '../helpers/run';

const program = fixture('programs', 'brief-server.js');

// A fixed seed: the same handful of mutated files on every run, so a failure can be replayed.
const texts = fc.sample(fc.array(edit, { minLength: 1, maxLength: 3 }), { numRuns: 6, seed: 20261127 }).map((edits) => mutate(edits));

test('mutated profile.json files under the real agent in warm mode: the app runs, its exit code unchanged, at most one preheat line', async (t) => {
  const bare = await run(process.execPath, [program], { env: cleanEnv(), cwd: path.dirname(program) });
  t.is(bare.code, 3, bare.stderr);
  for (const [i, text] of texts.entries()) {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'profile.json'), text);
    const r = await run(process.execPath, ['--require', agent, program], {
      env: cleanEnv({ PREHEAT_MODE: 'warm', PREHEAT_DIR: dir }),
      cwd: path.dirname(program),
    });
    const label = `case ${i}: ${text.slice(0, 120)}`;
    t.is(r.code, bare.code, `${label}\n${r.stderr}`);
    t.is(r.stdout, bare.stdout, label);
    t.true(warnings(r.stderr).length <= 1, `${label}\n${r.stderr}`);
    t.is(r.stderr.split('\n').filter((l) => l && !l.startsWith('preheat:')).join('\n'), '', `${label}: nothing but preheat lines on stderr`);
  }
});
