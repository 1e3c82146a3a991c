'use strict';
// Fixture services for the benchmarks: boot one (with or without the agent) and wait for its
// "listening <port>" line, stop it, and the request mix each one is measured with.
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const { catalogPaths } = require('./load');

const repo = path.join(__dirname, '..', '..');
const agent = path.join(repo, 'agent', 'index.js');

function serviceScript(name) {
  return path.join(repo, 'fixtures', 'services', name, 'server.js');
}

/** Boots `name`; `port` resolves when it listens; `t0` is when it was spawned. */
function bootService(name, { withAgent = false, env = {} } = {}) {
  const script = serviceScript(name);
  const child = spawn(process.execPath, [...(withAgent ? ['--require', agent] : []), script], {
    cwd: path.dirname(script),
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const t0 = process.hrtime.bigint();
  const port = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (c) => reject(new Error(`${name} exited with ${c} before listening`)));
  });
  return { child, port, t0 };
}

function stopService(child) {
  return new Promise((resolve) => {
    child.on('exit', resolve);
    child.kill('SIGTERM');
  });
}

async function freePort() {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** The request mix a service is recorded and measured with, in a fixed order. */
function servicePaths(name) {
  if (name === 'catalog') return catalogPaths(300);
  const tags = ['home', 'garden', 'tools'];
  const sorts = ['price', 'name', 'rating'];
  return Array.from({ length: 300 }, (_, i) => (i % 4 === 0 ? `/product/${(i * 13) % 300}` : `/products?tag=${tags[i % 3]}&sort=${sorts[i % 3]}&page=${1 + (i % 5)}`));
}

module.exports = { bootService, stopService, freePort, servicePaths };
