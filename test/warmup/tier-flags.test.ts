import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { lowerTiering, tierFlagsFor } from '../../src/warmup/tier-flags';
import { repo } from '../helpers/run';

test('the tiering flags and defaults named for this V8 are the ones its --v8-options lists', (t) => {
  const flags = tierFlagsFor(process.versions.v8);
  t.true(flags.length > 0, `no tiering flags known for V8 ${process.versions.v8}`);
  const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
  for (const f of flags) t.regex(options, new RegExp(`default: --${f.name}=${f.standard}\\b`), f.name);
});

test('V8 11.3 gets its single interrupt budget, 12.4 and later the per-tier counts, others nothing', (t) => {
  t.deepEqual(tierFlagsFor('11.3.244.8-node.38').map((f) => f.name), ['interrupt-budget', 'minimum-invocations-after-ic-update']);
  t.true(tierFlagsFor('14.6.202.34').some((f) => f.name === 'invocation-count-for-turbofan'));
  t.false(tierFlagsFor('12.4.254').some((f) => f.name === 'interrupt-budget'), 'V8 12.4 rejects --interrupt-budget');
  t.deepEqual(tierFlagsFor('10.2.154'), []);
});

test('lowering sets a tenth of each default and restore puts the defaults back, once', (t) => {
  const set: string[] = [];
  const tiering = lowerTiering('', '13.6.233.17', (f) => set.push(f));
  t.deepEqual(tiering.lowered, ['--invocation-count-for-turbofan=300', '--invocation-count-for-maglev=40', '--minimum-invocations-after-ic-update=50']);
  tiering.restore();
  tiering.restore();
  t.deepEqual(set.slice(3), ['--invocation-count-for-turbofan=3000', '--invocation-count-for-maglev=400', '--minimum-invocations-after-ic-update=500']);
});

test('a tiering flag the app set itself is neither lowered nor restored', (t) => {
  const set: string[] = [];
  const tiering = lowerTiering('--max-old-space-size=512 --invocation_count_for_turbofan=100', '12.4.254', (f) => set.push(f));
  t.false(set.some((f) => f.includes('turbofan')));
  tiering.restore();
  t.false(set.some((f) => f.includes('turbofan')));
});

test('lowered thresholds reach a function compiled before the change, and restoring them holds a fresh one back', (t) => {
  // V8 13.6 and later start Maglev at 400 calls, earlier ones TurboFan at about 3000 (V8 11.3
  // counts bytecode, not calls): the count stays under the default and above the lowered one.
  const [major = 0, minor = 0] = process.versions.v8.split('.').map(Number);
  const calls = major > 13 || (major === 13 && minor >= 6) ? 250 : 1200;
  const out = execFileSync(process.execPath, [path.join(repo, 'fixtures', 'programs', 'tier-flags.js'), String(calls)], { encoding: 'utf8' });
  const r = JSON.parse(out) as { loweredOptimizedAfter: number | null; restoredOptimizedAfter: number | null };
  t.not(r.loweredOptimizedAfter, null, out);
  t.is(r.restoredOptimizedAfter, null, out);
});
