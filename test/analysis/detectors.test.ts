import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { detectFindings } from '../../src/analysis/detect';
import { functionStats } from '../../src/analysis/function-stats';
import { createSourceFiles } from '../../src/analysis/source-files';
import { fromCpuProfile } from '../../src/profile/stack-model';
import { cpuProfileOf } from '../helpers/profiles';
import { tempDir } from '../helpers/run';

/** A model over one synthetic source file, with self ticks on the given lines of the given functions. */
function analyse(source: string, spec: (url: string) => Parameters<typeof cpuProfileOf>[0], minShare?: number) {
  const dir = tempDir();
  const file = path.join(dir, 'app.js');
  fs.writeFileSync(file, source);
  const model = fromCpuProfile(cpuProfileOf(spec(pathToFileURL(file).href)));
  const { stats, totals } = functionStats(model);
  return detectFindings({ model, stats, totals, sources: createSourceFiles(dir) }, minShare === undefined ? {} : { minShare });
}

const keySource = [
  'function build(items) {',
  '  const out = {};',
  '  for (const it of items) out["k" + it.id] = it;',
  '  for (let i = 0; i < items.length; i++) out[i + 1] = items[i];',
  '  const m = new Map(); for (const it of items) m.set("k" + it.id, it);',
  '  const key = `${items[0].a}:${items[0].b}`;',
  '  return out[key];',
  '}',
].join('\n');

test('string keys: concatenation, template via a local, and not numeric keys or Map calls', (t) => {
  const findings = analyse(keySource, (url) => [
    { name: 'build', url, line: 0, self: 100, ticks: [[3, 30], [4, 30], [5, 30], [7, 10]] },
  ]);
  t.deepEqual(
    findings.map((f) => [f.kind, f.function, f.line]),
    [
      ['string-interning', 'build', 3],
      ['string-interning', 'build', 7],
    ],
  );
  t.regex(findings[1]!.evidence, /key, a template literal \(line 6\)/);
});

test('findings under the share threshold are not reported', (t) => {
  const findings = analyse(keySource, (url) => [
    { name: 'build', url, line: 0, self: 100, ticks: [[3, 1], [4, 99]] },
  ]);
  t.deepEqual(findings, []);
  const lower = analyse(keySource, (url) => [{ name: 'build', url, line: 0, self: 100, ticks: [[3, 1], [4, 99]] }], 0.005);
  t.is(lower.length, 1);
});

const throwSource = [
  'function find(map, k) {',
  '  const v = map.get(k);',
  '  if (v === undefined) throw new Error("missing " + k);',
  '  return v;',
  '}',
  'function findOrNull(map, k) {',
  '  try {',
  '    return find(map, k);',
  '  } catch {',
  '    return null;',
  '  }',
  '}',
  'function findOrFail(map, k) {',
  '  try {',
  '    return find(map, k);',
  '  } catch (e) {',
  '    throw new Error("wrapped", { cause: e });',
  '  }',
  '}',
].join('\n');

test('a hot throw caught and swallowed by its caller is exception control flow', (t) => {
  const findings = analyse(throwSource, (url) => [
    { name: 'findOrNull', url, line: 5, self: 2, children: [{ name: 'find', url, line: 0, self: 60, ticks: [[3, 55], [2, 5]] }] },
    { name: 'idle-ish', url, line: 20, self: 38 },
  ]);
  t.is(findings.length, 1);
  t.is(findings[0]!.kind, 'exception-control-flow');
  t.is(findings[0]!.function, 'find');
  t.is(findings[0]!.line, 3);
  t.is(findings[0]!.share, 0.55);
  t.regex(findings[0]!.evidence, /caught by findOrNull at .*app\.js:9, which does not rethrow/);
});

test('a caller that rethrows only the errors it does not expect still uses the expected ones as control flow', (t) => {
  const src = [
    'class Miss extends Error {}',
    'function find(map, k) {',
    '  if (!map.has(k)) throw new Miss(k);',
    '  return map.get(k);',
    '}',
    'function findOrNull(map, k) {',
    '  try {',
    '    return find(map, k);',
    '  } catch (e) {',
    '    if (!(e instanceof Miss)) throw e;',
    '    return null;',
    '  }',
    '}',
  ].join('\n');
  const findings = analyse(src, (url) => [{ name: 'findOrNull', url, line: 6, self: 2, children: [{ name: 'find', url, line: 0, self: 60, ticks: [[3, 60]] }] }]);
  t.deepEqual(
    findings.map((f) => [f.kind, f.function, f.line]),
    [['exception-control-flow', 'find', 3]],
  );
  t.regex(findings[0]!.evidence, /caught by findOrNull at .*:9, which rethrows only the errors it does not expect/);
});

test('a throw two calls below a try that calls its rule through a variable is still found', (t) => {
  const src = [
    'class Invalid extends Error {}',
    'function ensure(ok, what) {',
    '  if (!ok) throw new Invalid(what);',
    '}',
    'function email(v) {',
    '  ensure(v.includes("@"), "email");',
    '}',
    'function validate(record, rules) {',
    '  let bad = 0;',
    '  for (const [field, fn] of rules) {',
    '    try {',
    '      fn(record[field]);',
    '    } catch (e) {',
    '      bad++;',
    '    }',
    '  }',
    '  return bad;',
    '}',
  ].join('\n');
  const findings = analyse(src, (url) => [
    { name: 'validate', url, line: 8, self: 2, children: [{ name: 'email', url, line: 5, self: 3, children: [{ name: 'ensure', url, line: 0, self: 60, ticks: [[3, 60]] }] }] },
  ]);
  t.deepEqual(
    findings.map((f) => [f.kind, f.function, f.line]),
    [['exception-control-flow', 'ensure', 3]],
  );
  t.regex(findings[0]!.evidence, /caught by validate at .*:13, which does not rethrow/);
});

test('a throw whose caller rethrows, or that nobody catches, is not reported', (t) => {
  const rethrown = analyse(throwSource, (url) => [
    { name: 'findOrFail', url, line: 12, self: 2, children: [{ name: 'find', url, line: 0, self: 60, ticks: [[3, 60]] }] },
  ]);
  t.deepEqual(rethrown, []);
  const uncaught = analyse(throwSource, (url) => [{ name: 'main', url, line: 30, children: [{ name: 'find', url, line: 0, self: 60, ticks: [[3, 60]] }] }]);
  t.deepEqual(uncaught, []);
});

test('garbage collection above 10% of busy samples is a gc-pressure finding; below it is not', (t) => {
  const heavy = analyse('function f() {}\n', (url) => [
    { name: 'f', url, line: 0, self: 80 },
    { name: '(garbage collector)', url: '', self: 20 },
    { name: '(idle)', url: '', self: 500 },
  ]);
  t.deepEqual(
    heavy.map((f) => [f.kind, f.share]),
    [['gc-pressure', 0.2]],
  );
  const light = analyse('function f() {}\n', (url) => [
    { name: 'f', url, line: 0, self: 95 },
    { name: '(garbage collector)', url: '', self: 5 },
  ]);
  t.deepEqual(light, []);
});

test('sync fs calls on a hot path are charged to the app caller; during module loading they are not', (t) => {
  const src = 'function handle() {\n  return require("fs").readFileSync("x");\n}\n';
  const hot = analyse(src, (url) => [
    { name: 'onRequest', url, line: 10, children: [{ name: 'handle', url, line: 0, self: 1, ticks: [[2, 1]], children: [{ name: 'readFileSync', url: 'node:fs', line: 400, self: 30, children: [{ name: 'openSync', url: 'node:fs', line: 500, self: 9 }] }] }] },
    { name: 'other', url, line: 20, self: 60 },
  ]);
  t.deepEqual(
    hot.map((f) => [f.kind, f.function, f.line, f.share]),
    [['sync-io', 'handle', 2, 0.39]],
  );
  const loading = analyse(src, (url) => [
    { name: 'Module._compile', url: 'node:internal/modules/cjs/loader', line: 1, children: [{ name: 'handle', url, line: 0, children: [{ name: 'readFileSync', url: 'node:fs', line: 400, self: 40 }] }] },
    { name: 'other', url, line: 20, self: 60 },
  ]);
  t.deepEqual(loading, []);
});

test('a hot JSON.parse is reported only well above the threshold, and never for a file read on the same line', (t) => {
  const src = 'function load(text, fs) {\n  const a = JSON.parse(text);\n  const b = JSON.parse(fs.readFileSync("c.json", "utf8"));\n  return [a, b];\n}\n';
  const spec = (parse: number, read: number) => (url: string) => [{ name: 'load', url, line: 0, self: 100, ticks: [[2, parse], [3, read], [4, 100 - parse - read]] as [number, number][] }];
  t.deepEqual(
    analyse(src, spec(12, 40)).map((f) => [f.kind, f.line]),
    [['string-interning', 2]],
  );
  t.deepEqual(analyse(src, spec(8, 40)), []);
});
