'use strict';
// Fixture services for the benchmarks: boot one (with or without the agent) and wait for its
// "listening <port>" line, stop it, and the request mix each one is measured with. A third-party
// service (bootExternal) is booted from a command line instead and measured with a paths file.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
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

/**
 * Boots a third-party service: `command` is "<script.js> [args]", split on white space, with every
 * `{port}` replaced by `port` (default: a free port); the script is resolved against `cwd`. Such an app prints no
 * "listening <port>" line of ours, so `port` resolves once that port answers HTTP (any status).
 */
async function bootExternal(command, { cwd = process.cwd(), withAgent = false, env = {}, port: fixedPort = null } = {}) {
  const appPort = fixedPort ?? (await freePort());
  const [script, ...args] = command.trim().split(/\s+/).map((a) => a.replaceAll('{port}', String(appPort)));
  const child = spawn(process.execPath, [...(withAgent ? ['--require', agent] : []), path.resolve(cwd, script), ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const t0 = process.hrtime.bigint();
  // Always drained: a per-request logger (json-server's morgan) would block on a full pipe. The
  // tail is kept to say why the app exited, when it does so before answering.
  let tail = '';
  child.stdout.on('data', (d) => (tail = (tail + d).slice(-2000)));
  let exit = null;
  child.on('exit', (code, signal) => (exit = code ?? signal));
  const port = (async () => {
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      if (exit !== null) throw new Error(`${command} exited with ${exit} before answering HTTP:\n${tail}`);
      if ((await httpStatus(appPort, '/')) !== 0) return appPort;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`${command} did not answer HTTP on port ${appPort} within 30 s`);
  })();
  return { child, port, t0 };
}

/** The status code of GET `p` on loopback; 0 when nothing answers (not listening yet). */
function httpStatus(port, p) {
  return new Promise((resolve) =>
    http
      .get({ host: '127.0.0.1', port, path: p }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
      .on('error', () => resolve(0)),
  );
}

function stopService(child) {
  // A child that is gone already emits no more 'exit': waiting for one would hang the benchmark.
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
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

/** A paths file's request mix: one path per line; blank lines and `#` comments are skipped. */
function readPaths(file) {
  const paths = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (!paths.length) throw new Error(`${file} holds no request paths`);
  const bad = paths.find((l) => !l.startsWith('/'));
  if (bad) throw new Error(`${file}: "${bad}" is not a path (it must start with /)`);
  return paths;
}

module.exports = { bootService, bootExternal, stopService, freePort, servicePaths, readPaths, httpStatus };
