import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { detectFindings } from '../../src/analysis/detect';
import { functionStats } from '../../src/analysis/function-stats';
import { createSourceFiles } from '../../src/analysis/source-files';
import { fromCpuProfile, mergeInto } from '../../src/profile/stack-model';
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
  const concat = analyse(keySource, (url) => [{ name: 'build', url, line: 0, self: 100, ticks: [[3, 30], [4, 35], [5, 35]] }]);
  t.deepEqual(concat.map((f) => [f.kind, f.function, f.line]), [['string-interning', 'build', 3]]);
  const template = analyse(keySource, (url) => [{ name: 'build', url, line: 0, self: 100, ticks: [[4, 45], [5, 45], [7, 10]] }]);
  t.deepEqual(template.map((f) => [f.kind, f.function, f.line]), [['string-interning', 'build', 7]]);
  t.regex(template[0]!.evidence, /key, a template literal \(line 6\)/);
});

test('one string-interning finding per function, at its hottest line, naming the others', (t) => {
  const findings = analyse(keySource, (url) => [
    { name: 'build', url, line: 0, self: 100, ticks: [[3, 30], [4, 30], [5, 30], [7, 10]] },
  ]);
  t.deepEqual(findings.map((f) => [f.kind, f.function, f.line]), [['string-interning', 'build', 3]]);
  t.regex(findings[0]!.evidence, /The same function also does it on line 7 \(10\.0%\)\.$/);
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

/** `find` throws Miss; `lookup` calls it inside a try whose catch is `handler` (lines 9 on). */
const withCatch = (handler: string[]) =>
  [
    'class Miss extends Error {}',
    'function find(map, k) {',
    '  if (!map.has(k)) throw new Miss(k);',
    '  return map.get(k);',
    '}',
    'function lookup(map, k) {',
    '  try {',
    '    return find(map, k);',
    ...handler,
    '}',
  ].join('\n');
const throwsIn = (url: string) => [{ name: 'lookup', url, line: 6, self: 2, children: [{ name: 'find', url, line: 0, self: 60, ticks: [[3, 60]] as [number, number][] }] }];

test('every catch shape that handles the expected error is control flow; a catch that always passes it on is not', (t) => {
  const handles: Record<string, string[]> = {
    'instanceof, return, then rethrow': ['  } catch (e) {', '    if (e instanceof Miss) return null;', '    throw e;', '  }'],
    'a switch on e.code': ['  } catch (e) {', '    switch (e.code) {', "      case 'ENOENT': return null;", '      default: throw e;', '    }', '  }'],
    'e.name compared': ['  } catch (e) {', "    if (e.name !== 'Miss') throw e;", '    return null;', '  }'],
    'a rethrow in a helper': ['  } catch (e) {', '    rethrowUnlessMiss(e);', '    return null;', '  }'],
  };
  for (const [shape, handler] of Object.entries(handles)) {
    t.deepEqual(
      analyse(withCatch(handler), throwsIn).map((f) => [f.kind, f.function, f.line]),
      [['exception-control-flow', 'find', 3]],
      shape,
    );
  }
  const passesOn: Record<string, string[]> = {
    'log then rethrow': ['  } catch (e) {', '    console.error(e);', '    throw e;', '  }'],
    'wrap and throw': ['  } catch (e) {', '    const wrapped = new Error("lookup failed", { cause: e });', '    throw wrapped;', '  }'],
    'rethrow after a callback that returns': ['  } catch (e) {', '    [1].forEach((x) => { return x; });', '    throw e;', '  }'],
  };
  for (const [shape, handler] of Object.entries(passesOn)) t.deepEqual(analyse(withCatch(handler), throwsIn), [], shape);
});

test('a rejection handled by .catch() or by .then(ok, fail) is control flow; a .catch() that rethrows is not', (t) => {
  const src = (use: string) =>
    ['class Miss extends Error {}', 'async function load(k) {', '  if (k > 1) throw new Miss(k);', '  return k;', '}', 'async function main(k) {', `  return ${use};`, '}'].join('\n');
  const stack = (url: string) => [{ name: 'main', url, line: 6, self: 2, children: [{ name: 'load', url, line: 1, self: 60, ticks: [[3, 60]] as [number, number][] }] }];
  for (const use of ['load(k).catch(() => null)', 'load(k).then((v) => v, () => null)', 'await load(k).catch(fallback)']) {
    const found = analyse(src(use), stack);
    t.deepEqual(found.map((f) => [f.kind, f.function, f.line]), [['exception-control-flow', 'load', 3]], use);
    t.regex(found[0]!.evidence, /its rejection is handled by main at .*:7/);
  }
  t.deepEqual(analyse(src('load(k).catch((e) => { throw new Error("failed", { cause: e }); })'), stack), []);
});

test('a hot built-in call inside a catch that swallows its error is unconfirmed exception control flow, never string-interning', (t) => {
  const src = ['function isJson(text) {', '  try {', '    JSON.parse(text);', '    return true;', '  } catch {', '    return false;', '  }', '}', 'function parse(text) {', '  return JSON.parse(text);', '}'].join('\n');
  const found = analyse(src, (url) => [
    { name: 'isJson', url, line: 0, self: 60, ticks: [[3, 60]] },
    { name: 'parse', url, line: 8, self: 40, ticks: [[10, 40]] },
  ]);
  t.deepEqual(
    found.map((f) => [f.kind, f.function, f.line, f.confirmed]),
    [
      ['exception-control-flow', 'isJson', 3, false],
      // Outside a try, a hot JSON.parse stays what it was.
      ['string-interning', 'parse', 10, undefined],
    ],
  );
  t.regex(found[0]!.evidence, /JSON\.parse, which throws on bad input.*caught in the same function at line 5.*unconfirmed/);
  t.regex(found[0]!.advice, /Check the input before the call/);
});

test("built-ins Node writes in JavaScript (new URL) are charged to the calling line from their own frames", (t) => {
  const src = ['function absolute(s) {', '  try {', '    return new URL(s);', '  } catch {', '    return null;', '  }', '}'].join('\n');
  const found = analyse(src, (url) => [{ name: 'absolute', url, line: 0, self: 5, ticks: [[3, 5]], children: [{ name: 'URL', url: 'node:internal/url', line: 700, self: 60 }] }, { name: 'other', url, line: 20, self: 35 }]);
  t.deepEqual(found.map((f) => [f.kind, f.function, f.line, f.share]), [['exception-control-flow', 'absolute', 3, 0.65]]);
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

test('sync fs calls on a hot path are charged to the app caller; in a module that another requires they are not', (t) => {
  const src = 'function handle() {\n  return require("fs").readFileSync("x");\n}\n';
  const hot = analyse(src, (url) => [
    { name: 'onRequest', url, line: 10, children: [{ name: 'handle', url, line: 0, self: 1, ticks: [[2, 1]], children: [{ name: 'readFileSync', url: 'node:fs', line: 400, self: 30, children: [{ name: 'openSync', url: 'node:fs', line: 500, self: 9 }] }] }] },
    { name: 'other', url, line: 20, self: 60 },
  ]);
  t.deepEqual(
    hot.map((f) => [f.kind, f.function, f.line, f.share]),
    [['sync-io', 'handle', 2, 0.39]],
  );
  // The entry's top-level code requires a module whose own top-level code reads files while it loads.
  const loader = 'node:internal/modules/cjs/loader';
  const loading = analyse(src, (url) => [
    {
      name: 'Module._compile',
      url: loader,
      line: 1,
      children: [
        { name: '', url, line: 0, children: [{ name: 'require', url: 'node:internal/modules/helpers', line: 1, children: [{ name: 'Module._load', url: loader, line: 1, children: [{ name: 'Module._compile', url: loader, line: 1, children: [{ name: 'handle', url, line: 0, children: [{ name: 'readFileSync', url: 'node:fs', line: 400, self: 40 }] }] }] }] }] },
      ],
    },
    { name: 'other', url, line: 20, self: 60 },
  ]);
  t.deepEqual(loading, []);
});

test("a batch program's main loop at the entry's top level is a hot path, not module loading", (t) => {
  const src = 'const fs = require("fs");\nlet n = 0;\nfor (let i = 0; i < 1e6; i++) {\n  n += fs.readFileSync("x").length;\n}\nfunction unused() {\n  return fs.readFileSync("y");\n}\n';
  const loader = 'node:internal/modules/cjs/loader';
  const found = analyse(src, (url) => [
    { name: 'Module._load', url: loader, line: 1, children: [{ name: 'Module._compile', url: loader, line: 1, children: [{ name: '', url, line: 0, self: 10, children: [{ name: 'readFileSync', url: 'node:fs', line: 400, self: 50 }] }] }] },
    { name: 'other', url, line: 20, self: 40 },
  ]);
  // Charged to the top-level code, at its own call (line 4), not at the one in a function it defines.
  t.deepEqual(
    found.map((f) => [f.kind, f.function, f.line, f.share]),
    [['sync-io', '(anonymous)', 4, 0.5]],
  );
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

test('start-up is a time: sync calls at the top level that all ran in the first quarter of a profile that saw the process start are left out', (t) => {
  const src = 'const fs = require("fs");\nconst config = fs.readFileSync("config.json");\nfunction serve() {\n  return config.length;\n}\n';
  const dir = tempDir();
  const file = path.join(dir, 'app.js');
  fs.writeFileSync(file, src);
  const url = pathToFileURL(file).href;
  const loader = 'node:internal/modules/cjs/loader';
  /** 6 boot reads and 94 samples of serve, one a millisecond; `late` moves the reads to the end, `at` to that sample. */
  const profile = (opts: { late?: boolean; at?: number; topLevelAtStart?: boolean }) => {
    const p = cpuProfileOf([
      { name: 'Module._compile', url: loader, line: 1, children: [{ name: '', url, line: 0, children: [{ name: 'readFileSync', url: 'node:fs', line: 400, self: 6 }] }] },
      { name: 'serve', url, line: 2, self: 94 },
    ]);
    // V8 puts a module's top-level code at 0:0 (the helper puts every frame at column 4).
    if (opts.topLevelAtStart !== false) for (const n of p.nodes) if (n.callFrame.functionName === '') n.callFrame.columnNumber = 0;
    if (opts.late) p.samples = [...p.samples!.slice(6), ...p.samples!.slice(0, 6)];
    if (opts.at !== undefined) p.samples = [...p.samples!.slice(6, 6 + opts.at), ...p.samples!.slice(0, 6), ...p.samples!.slice(6 + opts.at)];
    return p;
  };
  const findings = (model: ReturnType<typeof fromCpuProfile>) => {
    const { stats, totals } = functionStats(model);
    return detectFindings({ model, stats, totals, sources: createSourceFiles(dir) }).map((f) => [f.kind, f.function, f.line, f.share]);
  };
  t.deepEqual(findings(fromCpuProfile(profile({}))), [], 'boot reads in the first 6 ms of 100');
  t.deepEqual(findings(fromCpuProfile(profile({ late: true }))), [['sync-io', '(anonymous)', 2, 0.06]], 'the same reads at the end are a hot path');
  // The window is the first quarter: reads ending at 25 ms of 100 are start-up, at 27 ms not.
  t.deepEqual(findings(fromCpuProfile(profile({ at: 19 }))), []);
  t.deepEqual(findings(fromCpuProfile(profile({ at: 21 }))), [['sync-io', '(anonymous)', 2, 0.06]]);
  // Without the module's top-level code in it, the profile may have started long after the process: no start-up window.
  t.deepEqual(findings(fromCpuProfile(profile({ topLevelAtStart: false }))), [['sync-io', '(anonymous)', 2, 0.06]]);
  // Without sample times (or merged with another profile: two clocks), the rule cannot apply.
  const { timeDeltas: _, ...untimed } = profile({});
  t.deepEqual(findings(fromCpuProfile(untimed)), [['sync-io', '(anonymous)', 2, 0.06]]);
  t.deepEqual(findings(mergeInto(fromCpuProfile(profile({})), fromCpuProfile(profile({})))), [['sync-io', '(anonymous)', 2, 0.06]]);
});

test('a .cpuprofile gives each node the time of its last sample, out-of-order deltas included', (t) => {
  const p = cpuProfileOf([
    { name: 'a', self: 2 },
    { name: 'b', self: 1 },
  ]);
  p.samples = [2, 3, 2];
  p.timeDeltas = [100, 50, -20];
  const model = fromCpuProfile(p);
  const byName = (name: string) => model.nodes.find((n) => model.frames[n.frame]!.name === name)!;
  t.is(byName('a').lastMicros, 130);
  t.is(byName('b').lastMicros, 150);
});
