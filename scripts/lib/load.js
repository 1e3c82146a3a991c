'use strict';
// A bounded HTTP load over loopback: `count` requests, `concurrency` at a time, keep-alive.
// Used by the demo and the benchmarks; it refuses any host that is not a loopback address.
const http = require('node:http');

async function fireLoad({ host = '127.0.0.1', port, paths, count, concurrency = 8, timeoutMs = 10_000, headers = {} }) {
  if (!/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(host)) throw new Error(`load only goes to loopback, not ${host}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latenciesMs = [];
  let failed = 0;
  let next = 0;
  const one = (path) =>
    new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      const req = http.get({ host, port, path, agent, headers, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => {
          latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
          if (res.statusCode >= 500) failed++;
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        failed++;
        resolve();
      });
    });
  const worker = async () => {
    while (next < count) await one(paths[next++ % paths.length]);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { latenciesMs, failed };
}

/** The catalog fixture's traffic: lookups with misses and searches, in a fixed order. */
function catalogPaths(n = 500) {
  const words = ['red', 'lamp', 'quiet', 'kettle', 'smart', 'camera', 'zzz'];
  const out = [];
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) out.push(`/search?q=${words[i % words.length]}`);
    else out.push(`/product?ids=${[i, i * 7 + 1, 90000 + i, (i * 13) % 5000].join(',')}`);
  }
  return out;
}

module.exports = { fireLoad, catalogPaths };
