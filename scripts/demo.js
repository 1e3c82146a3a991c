#!/usr/bin/env node
'use strict';
// `npm run demo`: records the bundled catalog service under load with `preheat record`, then
// reports on it with `preheat report` (flame graph, pprof, folded stacks, findings) into
// preheat-report/. Everything stays on 127.0.0.1; the profile goes to .preheat-demo/.
const { spawn } = require('node:child_process');
const path = require('node:path');
const { fireLoad, catalogPaths } = require('./lib/load');

const repo = path.join(__dirname, '..');
const dir = path.join(repo, '.preheat-demo');
const cli = path.join(repo, 'bin', 'preheat.js');
const server = path.join(repo, 'fixtures', 'services', 'catalog', 'server.js');
const requests = Number(process.env.DEMO_REQUESTS || 20000);

function waitForPort(child) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`the service exited (${code}) before listening`)));
  });
}

async function main() {
  console.log(`recording the catalog service under ${requests} requests into ${path.relative(process.cwd(), dir)}/ ...`);
  const child = spawn(process.execPath, [cli, 'record', '--dir', dir, '--', process.execPath, server], {
    cwd: path.dirname(server),
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PORT: '0' },
  });
  const port = await waitForPort(child);
  const { latenciesMs, failed } = await fireLoad({ port, paths: catalogPaths(), count: requests, concurrency: 8 });
  console.log(`sent ${latenciesMs.length} requests, ${failed} failed`);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  const report = spawn(process.execPath, [cli, 'report', dir, '--out', path.join(repo, 'preheat-report'), '--top', '10'], {
    stdio: 'inherit',
    cwd: path.dirname(server),
  });
  const code = await new Promise((resolve) => report.on('exit', resolve));
  if (code !== 0) throw new Error(`preheat report exited with ${code}`);
  console.log(`\nopen ${path.relative(process.cwd(), path.join(repo, 'preheat-report', 'flamegraph.html'))} in a browser to explore the flame graph`);
}

main().catch((error) => {
  console.error(`demo failed: ${error.message}`);
  process.exitCode = 1;
});
