#!/usr/bin/env node
'use strict';
// Start-up cost of the agent: wall time of a program that exits at once, with and without
// `--require preheat/agent` (record mode), runs alternated so machine noise hits both alike.
// Usage: node scripts/bench/startup.js [--runs N] [--json FILE]
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 30;
const agent = path.join(__dirname, '..', '..', 'agent', 'index.js');
const program = path.join(__dirname, '..', '..', 'fixtures', 'programs', 'quick-exit.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preheat-bench-'));

function once(withAgent, sampler) {
  const env = { ...process.env, PREHEAT_MODE: 'record', PREHEAT_DIR: dir };
  if (sampler) env.PREHEAT_SAMPLER = sampler;
  const argv = withAgent ? ['--require', agent, program] : [program];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`run failed: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

const contenders = { bare: [false], native: [true, 'native'], inspector: [true, 'inspector'] };
const times = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
for (const k of Object.keys(contenders)) once(...contenders[k]); // warm the file cache
for (let i = 0; i < runs; i++) for (const [k, c] of Object.entries(contenders)) times[k].push(once(...c));

const result = {
  node: process.version,
  runs,
  medianMs: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, +median(v).toFixed(1)])),
  p10p90Ms: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, [+quantile(v, 0.1).toFixed(1), +quantile(v, 0.9).toFixed(1)]])),
  addedMedianMs: {
    native: +(median(times.native) - median(times.bare)).toFixed(1),
    inspector: +(median(times.inspector) - median(times.bare)).toFixed(1),
  },
};
fs.rmSync(dir, { recursive: true, force: true });
if (args.includes('--json')) fs.writeFileSync(args[args.indexOf('--json') + 1], JSON.stringify(result, null, 2));
{
  console.log(`agent start-up on Node ${result.node}, ${runs} alternated runs each (median, p10–p90):`);
  for (const k of Object.keys(contenders)) {
    console.log(`  ${k.padEnd(10)} ${result.medianMs[k]} ms  (${result.p10p90Ms[k].join('–')})`);
  }
  console.log(`  added: native ${result.addedMedianMs.native} ms, inspector ${result.addedMedianMs.inspector} ms`);
}
