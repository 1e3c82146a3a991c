#!/usr/bin/env node
'use strict';
// `npm run bench [-- --quick]`: every benchmark in one run, results as JSON in bench-results/ and
// as tables in BENCHMARKS.md (generated here, never typed by hand). --quick is CI's smoke run: it
// checks the benchmarks still work and asserts nothing about speed; it does not touch BENCHMARKS.md.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { writeMarkdown } = require('./markdown');

const quick = process.argv.includes('--quick');
const repo = path.join(__dirname, '..', '..');
const out = quick ? fs.mkdtempSync(path.join(os.tmpdir(), 'preheat-bench-quick-')) : path.join(repo, 'bench-results');
fs.mkdirSync(out, { recursive: true });

const steps = [
  ['startup', 'startup.js', quick ? ['--runs', '3'] : ['--runs', '20']],
  ['warmup-docs-shop', 'warmup.js', ['--service', 'docs-shop', ...(quick ? ['--quick'] : ['--runs', '3'])]],
  ['warmup-catalog', 'warmup.js', ['--service', 'catalog', ...(quick ? ['--quick'] : ['--runs', '3'])]],
  // Third-party services (scripts/bench/services, installed there on demand): the quick run
  // smokes one of them, the full run races on all three. Their requests cost 1-2 ms each on the
  // project's 2-core machine: 5000 requests settle them; 20 000 would add about 40 s per contender.
  ...['json-server', 'graphql', 'ssr']
    .filter((s) => !quick || s === 'graphql')
    .map((s) => [`warmup-${s}`, 'warmup.js', ['--external', `${s}.js {port}`, '--cwd', path.join(__dirname, 'services'), '--paths', path.join(__dirname, 'services', `${s}.paths`), '--name', s, ...(quick ? ['--quick'] : ['--runs', '3', '--settle', '5000'])]]),
  // --control: a second agent-less process beside the others, whose ratio is the bench's own noise
  // (docs/overhead.md); both samplers, as a plain `npm i preheat` gets the inspector one.
  ['overhead', 'overhead.js', ['--control', ...(quick ? ['--quick'] : ['--runs', '6', '--samplers', 'native,inspector'])]],
  ['report-speed', 'report-speed.js', quick ? ['--quick'] : []],
  ['findings', 'findings.js', quick ? ['--quick'] : []],
];

const started = Date.now();
let failed = 0;
for (const [name, file, args] of steps) {
  const json = path.join(out, `${name}.json`);
  console.log(`\n== ${name}`);
  const r = spawnSync(process.execPath, [path.join(__dirname, file), ...args, '--json', json], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`${name} failed (exit ${r.status})`);
  }
}
const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString().slice(0, 10) };
fs.writeFileSync(path.join(out, 'machine.json'), JSON.stringify(machine, null, 2));
if (!quick) fs.writeFileSync(path.join(repo, 'BENCHMARKS.md'), writeMarkdown(out));
console.log(`\nbenchmarks done in ${Math.round((Date.now() - started) / 1000)} s${quick ? ' (quick: BENCHMARKS.md unchanged)' : '; BENCHMARKS.md written'}`);
process.exitCode = failed ? 1 : 0;
