import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectFindings } from '../../src/analysis/detect';
import type { DeoptInput } from '../../src/analysis/detector';
import { MIN_THROWN_AWAY } from '../../src/analysis/detectors/deopt-loop';
import { functionStats } from '../../src/analysis/function-stats';
import { createSourceFiles } from '../../src/analysis/source-files';
import { checkPerf } from '../../src/native/capture';
import type { FunctionDeopts } from '../../src/native/deopt-events';
import { emptyModel, type StackModel } from '../../src/profile/stack-model';
import { DEOPT_LOOPS_UNMEASURED } from '../../src/report/write-report';
import { outsideProgram, requiredPrograms } from '../helpers/programs';
import { cleanEnv, cli, fixture, readJson, run, tempDir } from '../helpers/run';

// --- The detector, on synthetic deoptimization counts -------------------------------------------

const URL = 'file:///app/orders.js';

/** A model with one hot function, and what V8 logged about it. */
function input(deopts: Partial<FunctionDeopts>, cost: { samples: number; unoptimized: number; deopt?: number }, deoptsLogged = true) {
  const model: StackModel = emptyModel();
  model.frames.push({ name: 'invoiceTotal', url: URL, line: 20, column: 22, kind: 'js' });
  model.nodes[0]!.children.push(1);
  model.nodes.push({ frame: 1, parent: 0, children: [], self: 1000 });
  model.totalSamples = 1000;
  const { stats, totals } = functionStats(model);
  const d: FunctionDeopts = { name: 'invoiceTotal', url: URL, line: 20, column: 22, optimized: 0, deoptimized: 0, aborted: 0, reasons: [], sites: [], firstMicros: 1e5, lastMicros: 2e6, compileMs: 0, ...deopts };
  const native: DeoptInput = {
    summary: { functions: [d], deoptsLogged },
    functions: [{ name: 'invoiceTotal', url: URL, line: 20, column: 22, samples: cost.samples, unoptimized: cost.unoptimized, categories: cost.deopt ? { deopt: cost.deopt } : {} }],
    mainSamples: 1000,
    mainMicros: 1000 * 1000,
  };
  return { model, stats, totals, sources: createSourceFiles(tempDir()), deopts: native };
}

test('a function V8 keeps throwing away, and that runs unoptimized for it, is a deopt loop with counts, reasons and advice', (t) => {
  const findings = detectFindings(
    input(
      { optimized: 40, deoptimized: 39, aborted: 12, reasons: [{ reason: 'dependent prototype chain changed', count: 39 }, { reason: 'Bailed out due to dependency change', count: 12 }] },
      { samples: 400, unoptimized: 250, deopt: 10 },
    ),
  );
  t.is(findings.length, 1);
  const f = findings[0]!;
  t.like(f, { kind: 'deopt-loop', function: 'invoiceTotal', line: 20, frame: 1 });
  t.is(f.share, 0.26);
  t.regex(f.evidence, /installed optimized code for invoiceTotal 40 times and deoptimized it 39 times \(from 0\.1 s to 2\.0 s into the run\); it threw away another 12 optimized compilations before installing them/);
  t.regex(f.evidence, /Reasons: dependent prototype chain changed ×39, Bailed out due to dependency change ×12\./);
  t.regex(f.evidence, /for 26\.0% of the CPU samples \(250 \+ 10 of its 400\)/);
  t.regex(f.advice, /prototype/);
});

test('each family of reasons gets its own advice, and eager deoptimizations name the failing check', (t) => {
  const cases: [string, RegExp][] = [
    ['not a Smi', /argument types monomorphic/],
    ['wrong map', /in the constructor/],
    ['code dependencies', /prototype/],
    ['wrong call target', /one function per site/],
    ['out of bounds', /within the length/],
    ['dependent property cell changed', /global/],
    ['Insufficient type feedback for binary operation', /rest parameters/],
  ];
  for (const [reason, advice] of cases) {
    const [f] = detectFindings(
      input({ optimized: 10, deoptimized: 10, reasons: [{ reason, count: 10 }], sites: [{ function: 'lineTotal', url: URL, line: 7, count: 10 }] }, { samples: 300, unoptimized: 200 }),
    );
    t.regex(f!.advice, advice, reason);
    t.regex(f!.evidence, /The failing checks: lineTotal at .*orders\.js:7 ×10\./, reason);
  }
});

test('no deopt-loop: too few code objects thrown away, too little cost, or no deoptimization counts at all', (t) => {
  const reasons = [{ reason: 'not a Smi', count: 3 }];
  t.deepEqual(detectFindings(input({ optimized: 4, deoptimized: MIN_THROWN_AWAY - 1, reasons }, { samples: 900, unoptimized: 500 })), []);
  // Thrown away often, but its unoptimized time is under 2% of the samples.
  t.deepEqual(detectFindings(input({ optimized: 30, deoptimized: 30, reasons }, { samples: 900, unoptimized: 15, deopt: 4 })), []);
  // Compiled again and again, but cheaply: 15 ms of compiling in a second of main thread is 1.5%.
  t.deepEqual(detectFindings(input({ optimized: 30, deoptimized: 30, reasons, compileMs: 4 }, { samples: 900, unoptimized: 1 })), []);
  // A CPU profile: nothing to count.
  const { deopts: _, ...cpuProfileOnly } = input({ optimized: 30, deoptimized: 30, reasons }, { samples: 900, unoptimized: 500 });
  t.deepEqual(detectFindings(cpuProfileOnly), []);
});

test('compiling time counts: a function Maglev re-optimizes within milliseconds runs unoptimized for little, but its compiles cost', (t) => {
  // What flag-rules.js showed on Node 24: 36 compiles, ~100 ms of them, 0.3% of the samples unoptimized.
  const reasons = [{ reason: 'wrong map', count: 30 }];
  const [f] = detectFindings(input({ optimized: 36, deoptimized: 30, reasons, compileMs: 98.4 }, { samples: 900, unoptimized: 3 }));
  t.truthy(f);
  t.is(f!.share, 0.003 + 0.0984);
  t.regex(f!.evidence, /times its optimizing compiles of it at 98 ms, mostly on background threads: 9\.8% of the main thread's sampled time, 10\.1% in all/);
  t.regex(f!.evidence, /for 0\.3% of the CPU samples/);
  // Without the compile time the same counts are no finding (the rule before).
  t.deepEqual(detectFindings(input({ optimized: 36, deoptimized: 30, reasons, compileMs: 0 }, { samples: 900, unoptimized: 3 })), []);
});

test('under perf the evidence says the counts come from the optimization trace', (t) => {
  const [f] = detectFindings(
    input({ optimized: 30, deoptimized: 29, aborted: 5, reasons: [{ reason: 'Bailed out due to dependency change', count: 5 }] }, { samples: 400, unoptimized: 100 }, false),
  );
  t.regex(f!.evidence, /installed optimized code for invoiceTotal 30 times, 29 of them replacing code it had thrown away/);
  t.regex(f!.evidence, /these counts come from V8's optimization trace; `--capture prof` gives every deoptimization/);
  t.regex(f!.evidence, /baseline code or in the deoptimizer/);
});

// --- Fixture programs under flame --native ------------------------------------------------------

const perf = checkPerf(tempDir());
const nm = outsideProgram('nm');
const program = (name: string) => fixture('native', name);

async function flame(capture: 'prof' | 'perf', file: string, ms: number) {
  const out = path.join(tempDir(), 'flame');
  const r = await run(process.execPath, [cli, 'flame', '--native', '--capture', capture, '--out', out, '--', process.execPath, program(file), String(ms)], {
    env: cleanEnv(),
    cwd: tempDir(),
  });
  const read = (f: string) => (fs.existsSync(path.join(out, f)) ? readJson(path.join(out, f)) : null);
  return { ...r, native: read('native.json'), findings: ((read('findings.json') ?? []) as any[]).filter((f) => f.kind === 'deopt-loop') };
}

/** The seeded programs: a prototype that gains a property per batch, the code that relies on it, the reasons V8 gives on 11.3–14.6. */
const SEEDED = [
  { file: 'deopt-prototype.js', fn: 'invoiceTotal', line: 20, also: ['tax'] },
  { file: 'deopt-prototype-chain.mjs', fn: 'countErrors', line: 19, also: [] as string[] },
];
const SEEDED_REASONS = /dependent prototype chain changed|code dependencies|Bailed out due to dependency change/;
/** Look-alikes: optimized once (stable-prototype), or deoptimized a few times while V8's feedback widens, then stable. */
const LOOK_ALIKES = ['stable-prototype.js', 'settle-types.js', 'settle-shapes.js', 'settle-arguments.js', 'clean.js'];

type Declare = (title: string, impl: (t: ExecutionContext) => unknown) => void;
// perf where it may run; where it may not, skipped with the reason, or failing where CI requires perf.
const perfDeclare: Declare = perf.ok
  ? test.serial
  : requiredPrograms().has('perf')
    ? (title) => test.serial(title, (t) => t.fail(`perf cannot run here (${perf.reason}), and PREHEAT_TEST_REQUIRE requires it`))
    : (title, impl) => test.skip(`${title} [skipped: ${perf.reason}]`, impl);

for (const capture of ['prof', 'perf'] as const) {
  // The tick log's C++ frames are named through binutils' nm.
  const declare: Declare = capture === 'prof' ? nm.serial : perfDeclare;

  for (const seeded of SEEDED) {
    declare(`flame --native --capture ${capture}: ${seeded.file} is a deopt loop in ${seeded.fn}, for a prototype change`, async (t) => {
      const r = await flame(capture, seeded.file, 2000);
      t.is(r.code, 0, r.stderr);
      const f = r.findings.find((x) => x.function === seeded.fn);
      t.truthy(f, JSON.stringify({ findings: r.findings, deopts: r.native?.deopts?.slice(0, 5) }));
      t.is(f.line, seeded.line);
      t.true(f.file.endsWith(seeded.file), f.file);
      t.regex(f.evidence, SEEDED_REASONS);
      t.regex(f.advice, /prototype/);
      t.true(f.share >= 0.04, JSON.stringify(f));
      t.true(f.native.confirmed, JSON.stringify(f.native));
      // The other deopt loops, if any, are in functions of the same program that rely on the same prototype.
      for (const other of r.findings) t.true([seeded.fn, ...seeded.also].includes(other.function), JSON.stringify(other));
    });
  }

  for (const file of LOOK_ALIKES) {
    declare(`flame --native --capture ${capture}: ${file} gives no deopt-loop finding`, async (t) => {
      const r = await flame(capture, file, 1500);
      t.is(r.code, 0, r.stderr);
      t.deepEqual(r.findings, []);
      // V8 was asked: native.json lists what it deoptimized (the settling programs do deoptimize a few times).
      t.true(Array.isArray(r.native.deopts), JSON.stringify(r.native.deopts));
      const mainMs = (r.native.mainSamples * r.native.intervalMicros) / 1000;
      for (const d of r.native.deopts) t.true(d.deoptimized + d.aborted < MIN_THROWN_AWAY || d.unoptimizedSamples / r.native.mainSamples + d.compileMs / mainMs < 0.02, JSON.stringify(d));
    });
  }
}

nm.serial('flame --native --capture prof keeps the command stdout its own while V8 logs deoptimizations', async (t) => {
  // V8 11.3–13.6 print every deoptimization on stdout under --log-deopt unless the code trace is redirected.
  const r = await flame('prof', 'deopt-prototype.js', 800);
  t.is(r.code, 0, r.stderr);
  // (flame's own report, on the same stdout, does talk about deoptimization: V8's trace lines start with `[`.)
  t.notRegex(r.stdout, /^\[(bailout|marking|compiling method|completed|aborted|deoptimizing)/m);
  t.regex(r.stdout, /deopt-loop/);
});

// --- Where the counts do not exist --------------------------------------------------------------

test('preheat report of a .cpuprofile says deopt loops are not measured there, and reports none', async (t) => {
  const dir = tempDir();
  const prof = await run(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, program('deopt-prototype.js'), '1000'], { env: cleanEnv() });
  t.is(prof.code, 0, prof.stderr);
  const out = path.join(tempDir(), 'report');
  const r = await run(process.execPath, [cli, 'report', dir, '--out', out], { env: cleanEnv() });
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.includes(DEOPT_LOOPS_UNMEASURED), r.stdout);
  t.regex(r.stdout, /deopt-loop: not measured here\..*preheat flame --native/);
  t.false(readJson<any[]>(path.join(out, 'findings.json')).some((f) => f.kind === 'deopt-loop'));
});
