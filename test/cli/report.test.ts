import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanEnv, cli, fixture, readJson, run, tempDir } from '../helpers/run';
import { bootService } from '../helpers/service';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = require(path.join(__dirname, '..', '..', '..', 'scripts', 'lib', 'load.js')) as {
  fireLoad(o: { port: number; paths: string[]; count: number; concurrency: number }): Promise<unknown>;
  catalogPaths(n?: number): string[];
};

const preheat = (args: string[], cwd?: string) => run(process.execPath, [cli, ...args], { env: cleanEnv(), cwd });

/** The catalog service recorded under traffic that hits its throwing lookup and its string keys. */
async function recordedCatalog(): Promise<string> {
  const dir = tempDir();
  const s = await bootService(fixture('services', 'catalog', 'server.js'), { PREHEAT_MODE: 'record', PREHEAT_DIR: dir, PREHEAT_SAMPLE_INTERVAL_MICROS: '250' });
  // The demo's traffic: lookups with misses and searches, 8 at a time.
  await load.fireLoad({ port: s.port, paths: load.catalogPaths(), count: 8000, concurrency: 8 });
  await s.stop();
  return dir;
}

test('preheat report writes every output and names the seeded findings', async (t) => {
  const dir = await recordedCatalog();
  const out = path.join(tempDir(), 'report');
  const r = await preheat(['report', dir, '--out', out], fixture('services', 'catalog'));
  t.is(r.code, 0, r.stderr);
  t.deepEqual(fs.readdirSync(out).sort(), ['findings.json', 'flamegraph.html', 'profile.pb.gz', 'stacks.folded']);
  t.regex(r.stdout, /Top functions by self time/);
  t.regex(r.stdout, /search\s+server\.js:31/);
  const findings = readJson<any[]>(path.join(out, 'findings.json'));
  for (const f of findings) t.deepEqual(Object.keys(f).sort(), ['advice', 'evidence', 'file', 'function', 'kind', 'line', 'share']);
  const summary = findings.map((f) => `${f.kind} ${f.function} ${f.file}:${f.line}`);
  t.true(summary.includes('string-interning priceTable server.js:27'), summary.join('\n'));
  t.true(summary.includes('exception-control-flow findProduct server.js:13'), summary.join('\n'));
  t.regex(fs.readFileSync(path.join(out, 'stacks.folded'), 'utf8'), /;priceTable \S+server\.js:25 \d+\n/);
});

test('preheat diff writes a differential graph and lists the biggest changes', async (t) => {
  const dir = tempDir();
  const write = (name: string, parse: number, render: number) => {
    const nodes = [
      { id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, children: [2, 3] },
      { id: 2, callFrame: { functionName: 'parse', scriptId: '1', url: 'file:///srv/p.js', lineNumber: 0, columnNumber: 0 }, hitCount: parse },
      { id: 3, callFrame: { functionName: 'render', scriptId: '2', url: 'file:///srv/r.js', lineNumber: 0, columnNumber: 0 }, hitCount: render },
    ];
    fs.writeFileSync(path.join(dir, name), JSON.stringify({ nodes, startTime: 0, endTime: 1000 }));
  };
  write('before.cpuprofile', 80, 20);
  write('after.cpuprofile', 30, 70);
  const out = path.join(dir, 'diff');
  const r = await preheat(['diff', path.join(dir, 'before.cpuprofile'), path.join(dir, 'after.cpuprofile'), '--out', out]);
  t.is(r.code, 0, r.stderr);
  t.true(fs.existsSync(path.join(out, 'diff.html')));
  t.regex(r.stdout, /Regressions \(more self time\)\n.*\n\s*20\.0%\s+70\.0%\s+\+50\.0pt\s+render/);
  t.regex(r.stdout, /Improvements \(less self time\)\n.*\n\s*80\.0%\s+30\.0%\s+-50\.0pt\s+parse/);
});

test('a bad input to preheat report is one line naming it, exit 1, and nothing written', async (t) => {
  const dir = tempDir();
  const bad = path.join(dir, 'x.cpuprofile');
  fs.writeFileSync(bad, '{"nodes": [{"id": 1}], "startTime": 0, "endTime": 1}');
  const out = path.join(dir, 'out');
  const r = await preheat(['report', bad, '--out', out]);
  t.is(r.code, 1);
  t.is(r.stderr, `preheat: ${bad} is not a .cpuprofile: node #1 is malformed [PREHEAT_ERR_INPUT]\n`);
  t.false(fs.existsSync(out));
  const usage = await preheat(['report']);
  t.is(usage.code, 2);
});

test('control characters in names do not reach the terminal', async (t) => {
  const dir = tempDir();
  const nodes = [
    { id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, children: [2] },
    { id: 2, callFrame: { functionName: 'evil\u001b]0;pwned\u0007\u001b[2J', scriptId: '1', url: 'file:///srv/e.js', lineNumber: 0, columnNumber: 0 }, hitCount: 10 },
  ];
  const file = path.join(dir, 'e.cpuprofile');
  fs.writeFileSync(file, JSON.stringify({ nodes, startTime: 0, endTime: 1000 }));
  const r = await preheat(['report', file, '--out', path.join(dir, 'out')]);
  t.is(r.code, 0, r.stderr);
  t.notRegex(r.stdout, /\u001b|\u0007/);
  t.regex(r.stdout, /evil\?\]0;pwned\?\?\[2J/);
});
