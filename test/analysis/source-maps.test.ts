import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { detectFindings } from '../../src/analysis/detect';
import { functionStats } from '../../src/analysis/function-stats';
import { createSourceFiles } from '../../src/analysis/source-files';
import { loadInputs } from '../../src/profile/load-inputs';
import { run, tempDir } from '../helpers/run';

const source = `interface Event {
  user: number;
  kind: string;
}

type Counts = Record<string, number>;

function countEvents(events: Event[]): Counts {
  const counts: Counts = {};
  for (const e of events) {
    const key: string = 'user_' + e.user + '_' + e.kind;
    counts[key] = (counts[key] || 0) + 1;
  }
  return counts;
}

const kinds: string[] = ['view', 'click', 'buy'];
const events: Event[] = Array.from({ length: 5000 }, (_, i) => ({ user: (i * 7919) % 3000, kind: kinds[i % 3]! }));
const until = Date.now() + 1000;
let total = 0;
while (Date.now() < until) total += Object.keys(countEvents(events)).length;
console.log(total > 0);
`;

test('findings in compiled TypeScript point at the .ts line through the source map', async (t) => {
  const dir = tempDir();
  const out = ts.transpileModule(source, { fileName: 'app.ts', compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS, sourceMap: true } });
  fs.writeFileSync(path.join(dir, 'app.ts'), source);
  fs.writeFileSync(path.join(dir, 'app.js'), out.outputText);
  fs.writeFileSync(path.join(dir, 'app.js.map'), out.sourceMapText!);
  const jsLine = out.outputText.split('\n').findIndex((l) => l.includes('counts[key] =')) + 1;
  t.true(jsLine > 0 && jsLine !== 12, 'the JavaScript line differs from the TypeScript one');

  const profiles = path.join(dir, 'profiles');
  const r = await run(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profiles, '--cpu-prof-interval', '250', path.join(dir, 'app.js')], { cwd: dir });
  t.is(r.code, 0, r.stderr);
  const { model } = loadInputs([profiles]);
  const { stats, totals } = functionStats(model);
  const findings = detectFindings({ model, stats, totals, sources: createSourceFiles(dir) });
  // The collector's share rises with the machine's load (a gc-pressure finding, with no file): not what this test is about.
  t.deepEqual(
    findings.filter((f) => f.kind !== 'gc-pressure').map((f) => [f.kind, f.function, f.file, f.line]),
    [['string-interning', 'countEvents', 'app.ts', 12]],
  );
});
