import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkPerf } from '../../src/native/capture';
import { outsideProgram, requiredPrograms } from '../helpers/programs';
import { cleanEnv, cli, fixture, readJson, run, tempDir, warnings } from '../helpers/run';

const perf = checkPerf(tempDir());
// V8's tick log holds bare addresses: binutils' nm names the C++ frames the categories are read from.
const nm = outsideProgram('nm');
// A machine without perf checks flame's message instead; where CI requires perf, its absence fails.
const perfInstalled = outsideProgram('perf');
const program = (name: string) => fixture('native', `${name}.js`);

/** `preheat flame` on a fixture program; the report and what the command printed. */
async function flame(args: string[], command: string[], env: NodeJS.ProcessEnv = {}) {
  const out = path.join(tempDir(), 'flame');
  const r = await run(process.execPath, [cli, 'flame', ...args, '--out', out, '--', ...command], { env: cleanEnv(env), cwd: tempDir() });
  const read = (f: string) => (fs.existsSync(path.join(out, f)) ? readJson(path.join(out, f)) : null);
  return { ...r, out, native: read('native.json'), findings: (read('findings.json') ?? []) as any[] };
}

const share = (native: any, category: string): number => native.categories.find((c: any) => c.category === category)?.share ?? 0;
const WASTE = ['exceptions', 'string-table', 'megamorphic-ic', 'deopt', 'gc', 'regexp', 'json'];

for (const capture of ['prof', 'perf'] as const) {
  const available = capture === 'prof' || perf.ok;
  const title = (what: string) => `flame --native --capture ${capture}: ${what}${available ? '' : ' (perf not usable here: checks the message instead)'}`;
  const declare: (title: string, impl: (t: ExecutionContext) => unknown) => void = capture === 'prof' ? nm.serial : perfInstalled.path || !requiredPrograms().has('perf') ? test.serial : perfInstalled.serial;

  declare(title('the exception-cost fixture shows its exceptions, charged to the throwing function'), async (t) => {
    // 3 s, as the clean fixture: compiling is a fixed cost (20-25% of 1.5 s on a loaded Node 22 run).
    const r = await flame(['--native', '--capture', capture], [process.execPath, program('throw-for-flow'), '3000']);
    if (!available) {
      t.is(r.code, 1);
      t.regex(r.stderr, /preheat: (Linux perf is not installed|perf is not permitted|perf failed|perf could not run).*try --capture prof/);
      return;
    }
    t.is(r.code, 0, r.stderr);
    t.deepEqual(warnings(r.stderr), []);
    t.is(r.native.source, capture === 'perf' ? 'perf' : 'v8-tick-log');
    t.true(share(r.native, 'exceptions') >= 0.3, JSON.stringify(r.native.categories));
    const biggestWaste = r.native.categories.find((c: any) => WASTE.includes(c.category));
    t.is(biggestWaste.category, 'exceptions');
    const finding = r.findings.find((f) => f.kind === 'exception-control-flow');
    t.truthy(finding, JSON.stringify(r.findings));
    t.is(finding.function, 'assertAllowed');
    t.true(finding.native.function.exceptions >= 0.3, JSON.stringify(finding.native));
    t.regex(finding.evidence, /Native frames \((perf|V8's tick log)\): of the \d+ samples with .* \d+% exceptions/);
    // The graphs show V8's own frames, coloured by category.
    t.regex(fs.readFileSync(path.join(r.out, 'stacks.folded'), 'utf8'), /(ErrorUtils::Construct|Isolate::Throw|CaptureSimpleStackTrace|Builtins?_ErrorConstructor)/);
    const html = fs.readFileSync(path.join(r.out, 'flamegraph.html'), 'utf8');
    t.regex(html, /class="legend"/);
    t.regex(html, /"exceptions"\]/);
  });

  declare(title('the string-key fixture shows string-table and dictionary costs'), async (t) => {
    // 3 s, as the clean fixture: compiling is a fixed cost (20-25% of 1.5 s on a loaded Node 22 run).
    const r = await flame(['--native', '--capture', capture], [process.execPath, program('string-keys'), '3000']);
    if (!available) return t.is(r.code, 1);
    t.is(r.code, 0, r.stderr);
    const interning = share(r.native, 'string-table') + share(r.native, 'megamorphic-ic');
    t.true(interning >= 0.4, JSON.stringify(r.native.categories));
    t.true(share(r.native, 'string-table') >= 0.15, JSON.stringify(r.native.categories));
    t.true(share(r.native, 'exceptions') < 0.03);
    const finding = r.findings.find((f) => f.kind === 'string-interning');
    t.truthy(finding, JSON.stringify(r.findings));
    t.is(finding.function, 'tally');
    t.true(finding.native.function['string-table'] + finding.native.function['megamorphic-ic'] >= 0.4, JSON.stringify(finding.native));
  });

  declare(title('the clean fixture shows no waste category above noise'), async (t) => {
    // 3 s: compiling is a fixed cost, and on a loaded machine 1.5 s of wall time left it 15% of the samples.
    const r = await flame(['--native', '--capture', capture], [process.execPath, program('clean'), '3000']);
    if (!available) return t.is(r.code, 1);
    t.is(r.code, 0, r.stderr);
    // Own JavaScript is the largest category, and no waste category comes near it.
    t.is(r.native.categories[0].category, 'js', JSON.stringify(r.native.categories));
    for (const waste of WASTE) t.true(share(r.native, waste) < 0.08, `${waste}: ${JSON.stringify(r.native.categories)}`);
    t.true(share(r.native, 'exceptions') < 0.03, JSON.stringify(r.native.categories));
    t.true(share(r.native, 'string-table') < 0.05, JSON.stringify(r.native.categories));
    t.deepEqual(r.findings, []);
  });
}

nm.test('without perf, flame says so and reads V8 tick log instead', async (t) => {
  // A PATH with node and nm but no perf.
  const bin = tempDir();
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  for (const tool of ['nm']) {
    const found = ['/usr/bin', '/bin', '/usr/local/bin'].map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
    if (found) fs.symlinkSync(found, path.join(bin, tool));
  }
  const r = await flame(['--native'], [process.execPath, program('throw-for-flow'), '800'], { PATH: bin });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /preheat: Linux perf is not installed .*; capturing native frames with V8's tick log \(--prof\) instead/);
  t.is(r.native.source, 'v8-tick-log');
  t.true(share(r.native, 'exceptions') >= 0.3, JSON.stringify(r.native.categories));
});

test('a command that is not node gets the JavaScript-level report and a clear message', async (t) => {
  const r = await flame(['--native', '--capture', 'prof'], ['/bin/sh', '-c', `exec "${process.execPath}" "${program('string-keys')}" 800`]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /preheat: V8's tick log needs the command to start node itself .*writing the JavaScript-level report only/);
  t.is(r.native, null);
  t.deepEqual(fs.readdirSync(r.out).sort(), ['findings.json', 'flamegraph.html', 'profile.pb.gz', 'stacks.folded']);
  t.true(r.findings.some((f) => f.kind === 'string-interning' && f.function === 'tally'), JSON.stringify(r.findings));
});

test("flame exits with the command's own exit code, after writing the report", async (t) => {
  const r = await flame([], [process.execPath, '-e', 'const end = Date.now() + 400; while (Date.now() < end); process.exitCode = 3']);
  t.is(r.code, 3);
  t.regex(r.stderr, /preheat: the command exited with code 3/);
  t.true(fs.existsSync(path.join(r.out, 'flamegraph.html')));
});

test('flame rejects bad options with a usage error', async (t) => {
  for (const args of [['--capture', 'prof', '--', 'node', 'x.js'], ['--native', '--capture', 'dtrace', '--', 'node', 'x.js'], ['--native'], ['--frequency', '0', '--', 'node', 'x.js']]) {
    const r = await run(process.execPath, [cli, 'flame', ...args], { env: cleanEnv() });
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, /^preheat: /, args.join(' '));
  }
});

for (const capture of ['auto', 'prof']) {
  test.serial(`a server run ended with Ctrl-C (SIGINT to the whole process group) still gets its report, exit 0 (--capture ${capture})`, async (t) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = require(path.join(__dirname, '..', '..', '..', 'scripts', 'lib', 'load.js')) as {
      fireLoad(o: { port: number; paths: string[]; count: number; concurrency: number }): Promise<unknown>;
      catalogPaths(n?: number): string[];
    };
    const out = path.join(tempDir(), 'flame');
    const server = fixture('services', 'catalog', 'server.js');
    // Its own process group, as a terminal gives a foreground job.
    const child = spawn(process.execPath, [cli, 'flame', '--native', '--capture', capture, '--out', out, '--', process.execPath, server], {
      detached: true,
      env: cleanEnv({ PORT: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /listening (\d+)/.exec(stdout);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', () => reject(new Error(`flame ended before the server listened: ${stderr}`)));
    });
    await load.fireLoad({ port, paths: load.catalogPaths(), count: 6000, concurrency: 8 });
    process.kill(-child.pid!, 'SIGINT');
    t.is(await exited, 0, stderr);
    const native = readJson(path.join(out, 'native.json'));
    t.true(native.mainSamples > 100, JSON.stringify(native.categories));
    // The server's own code is in the graphs (which of its findings clear the 2% bar varies by run).
    t.regex(fs.readFileSync(path.join(out, 'stacks.folded'), 'utf8'), /services\/catalog\/server\.js:\d+/);
    t.true(Array.isArray(readJson(path.join(out, 'findings.json'))));
    t.regex(stdout, /Where the main thread went/);
  });
}
