#!/usr/bin/env node
'use strict';
// Report speed: samples per second to build every output from a large profile (a million
// samples by default), and, on one CPU-bound workload, 0x's capture-and-render beside
// `node --cpu-prof` + `preheat report`.
// Usage: node scripts/bench/report-speed.js [--samples N] [--quick] [--json FILE]
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const quick = args.includes('--quick');
const samples = Number(opt('--samples', quick ? 100_000 : 1_000_000));
const repo = path.join(__dirname, '..', '..');
const cli = path.join(repo, 'bin', 'preheat.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'preheat-report-speed-'));

function timed(cmd, argv, options = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...options });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${path.basename(argv[0] ?? cmd)} failed (${r.status}): ${(r.stderr || '').slice(-800)}`);
  return { ms, stdout: r.stdout };
}

// 1. A large profile through every output, in one process, stage by stage.
const big = path.join(tmp, 'large.cpuprofile');
timed(process.execPath, [path.join(__dirname, 'make-large-profile.js'), big, '--samples', String(samples)]);
const stageScript = `
  const { loadInputs } = require(${JSON.stringify(path.join(repo, 'dist/src/profile/load-inputs.js'))});
  const { writeReport } = require(${JSON.stringify(path.join(repo, 'dist/src/report/write-report.js'))});
  const times = {}; let t = process.hrtime.bigint(); let last = 'reading';
  const mark = (next) => { const now = process.hrtime.bigint(); times[last] = Number(now - t) / 1e6; t = now; last = next; };
  const { model } = loadInputs([${JSON.stringify(big)}]);
  const r = writeReport(model, { out: ${JSON.stringify(path.join(tmp, 'report'))}, title: 'bench', onStage: mark });
  mark('end');
  process.stdout.write(JSON.stringify({ times, samples: model.totalSamples, nodes: model.nodes.length, findings: r.findings.length }));
`;
const staged = JSON.parse(timed(process.execPath, ['-e', stageScript]).stdout);
const totalMs = Object.values(staged.times).reduce((a, b) => a + b, 0);
const sizes = Object.fromEntries(fs.readdirSync(path.join(tmp, 'report')).map((f) => [f, fs.statSync(path.join(tmp, 'report', f)).size]));

// 2. The same CPU-bound workload, captured and rendered by 0x and by preheat.
const program = path.join(repo, 'fixtures', 'programs', 'text-index', 'main.js');
const runMs = quick ? '1000' : '4000';
const zeroX = path.join(repo, 'node_modules', '0x', 'cmd.js');
let ox = null;
if (fs.existsSync(zeroX)) {
  const dir = path.join(tmp, 'ox');
  ox = timed(process.execPath, [zeroX, '--output-dir', dir, '--', process.execPath, program, runMs], { cwd: tmp }).ms;
}
const profDir = path.join(tmp, 'cpuprof');
const capture = timed(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profDir, program, runMs]).ms;
const render = timed(process.execPath, [cli, 'report', profDir, '--out', path.join(tmp, 'side')]).ms;
fs.rmSync(tmp, { recursive: true, force: true });

const result = {
  node: process.version,
  samples: staged.samples,
  nodes: staged.nodes,
  stagesMs: Object.fromEntries(Object.entries(staged.times).map(([k, v]) => [k, Math.round(v)])),
  totalMs: Math.round(totalMs),
  samplesPerSecond: Math.round(staged.samples / (totalMs / 1000)),
  outputBytes: sizes,
  sideBySide: { workloadMs: Number(runMs), zeroXCaptureAndRenderMs: ox && Math.round(ox), preheatCaptureMs: Math.round(capture), preheatReportMs: Math.round(render) },
};
result.markdown = [
  `A synthetic profile of ${result.samples.toLocaleString('en')} samples (${result.nodes.toLocaleString('en')} nodes) to every output in ${result.totalMs} ms: **${result.samplesPerSecond.toLocaleString('en')} samples/s**.`,
  '',
  '| stage | ms |',
  '| --- | --- |',
  ...Object.entries(result.stagesMs).map(([k, v]) => `| ${k} | ${v} |`),
  '',
  `Output sizes: ${Object.entries(sizes).map(([k, v]) => `${k} ${(v / 1024).toFixed(0)} KiB`).join(', ')}.`,
  '',
  `Same workload (\`fixtures/programs/text-index\`, ${runMs} ms of CPU): 0x capture and render ${result.sideBySide.zeroXCaptureAndRenderMs ?? 'n/a'} ms; ` +
    `\`node --cpu-prof\` ${result.sideBySide.preheatCaptureMs} ms + \`preheat report\` ${result.sideBySide.preheatReportMs} ms.`,
].join('\n');
if (opt('--json')) fs.writeFileSync(opt('--json'), JSON.stringify(result, null, 2));
console.log(result.markdown);
