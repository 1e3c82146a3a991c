import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectFindings } from '../../src/analysis/detect';
import { functionStats } from '../../src/analysis/function-stats';
import { createSourceFiles } from '../../src/analysis/source-files';
import { loadInputs } from '../../src/profile/load-inputs';
import { fixture, readJson, run, tempDir } from '../helpers/run';

interface Label {
  file: string;
  expect: { kind: string; function: string; line: number }[];
}

const corpus = fixture('corpus');
const labels = readJson<Label[]>(path.join(corpus, 'labels.json'));

// One test per program; they run one at a time (test.serial) so two CPU-bound programs do not
// share the machine's two cores with ava's other files more than they must.
for (const label of labels) {
  test.serial(`${label.file}: ${label.expect.length ? label.expect.map((e) => `${e.kind} in ${e.function}:${e.line}`).join(', ') : 'no finding'}`, async (t) => {
    const dir = tempDir();
    const r = await run(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '250', path.join(corpus, label.file), '1000'], {
      cwd: corpus,
    });
    t.is(r.code, 0, r.stderr);
    const { model } = loadInputs([dir]);
    const { stats, totals } = functionStats(model);
    const findings = detectFindings({ model, stats, totals, sources: createSourceFiles(corpus) });
    const found = findings.map((f) => ({ kind: f.kind, function: f.function, line: f.line }));
    for (const e of label.expect) t.true(found.some((f) => f.kind === e.kind && f.function === e.function && f.line === e.line), `missing ${JSON.stringify(e)} in ${JSON.stringify(found)}`);
    // Nothing else of the kinds the corpus is about: a false finding costs a user's trust.
    const extra = found.filter((f) => f.kind !== 'gc-pressure' && !label.expect.some((e) => e.kind === f.kind && e.function === f.function && e.line === f.line));
    t.deepEqual(extra, []);
    for (const f of findings) {
      t.true(f.share > 0 && f.share <= 1);
      if (f.kind !== 'gc-pressure') t.is(f.file, label.file); // the collector's finding has no file
    }
    t.true(fs.existsSync(dir));
  });
}
