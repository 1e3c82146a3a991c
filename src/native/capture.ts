import { spawn, spawnSync } from 'node:child_process';
import { runChild } from '../run-child';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { DeoptEvents, type DeoptSummary } from './deopt-events';
import { NativeProfileBuilder, type NativeProfile } from './native-model';
import type { NativeSample } from './native-sample';
import { PerfMap, PerfMapTail } from './perf-map';
import { PerfScriptParser } from './perf-script';
import { TickLogParser } from './tick-log';

export type CaptureMethod = 'perf' | 'prof';

/** The preload that turns code-space compaction off where NODE_OPTIONS cannot (dist/src/native → agent/). */
const STABLE_CODE_SPACE = path.resolve(__dirname, '..', '..', '..', 'agent', 'stable-code-space.js');

export type PerfCheck = { ok: true } | { ok: false; reason: string };

/**
 * Whether Linux perf can sample this user's own processes: perf installed, and the kernel lets
 * us (perf_event_paranoid, CAP_PERFMON). A real one-tick recording is the only reliable test;
 * preheat never asks for sudo.
 */
export function checkPerf(workDir: string): PerfCheck {
  const out = path.join(workDir, 'perf-check.data');
  const r = spawnSync('perf', ['record', '-q', '-k', 'mono', '-F', '99', '-g', '-o', out, '--', 'true'], { encoding: 'utf8', timeout: 20_000 });
  fs.rmSync(out, { force: true });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? 'Linux perf is not installed (Debian and Ubuntu: the linux-perf or linux-tools package)' : `perf could not run: ${r.error.message}` };
  }
  if (r.status === 0) return { ok: true };
  const said = (r.stderr || '').trim();
  if (/paranoid|permission|not permitted|EACCES|EPERM/i.test(said)) {
    return { ok: false, reason: `perf is not permitted for this user (kernel.perf_event_paranoid is ${paranoid()}; it must be 2 or lower, or perf needs CAP_PERFMON)` };
  }
  return { ok: false, reason: `perf failed: ${said.split('\n').find((l) => l.trim()) ?? `exit code ${r.status}`}` };
}

function paranoid(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** True when the command starts a Node binary directly, so V8 flags can go on its command line. */
export function isNodeCommand(command: string[]): boolean {
  const exe = command[0] ?? '';
  return exe === process.execPath || /^node(js)?(\.exe)?$/.test(path.basename(exe));
}

export interface CaptureRun {
  command: string[];
  env: NodeJS.ProcessEnv;
  /** A private directory for perf.data, the tick log and the like. */
  workDir: string;
  method: CaptureMethod;
  /** Samples per second. */
  frequency: number;
}

export interface CaptureResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  profile: NativeProfile;
  /** What V8 logged about its optimized code (for deopt-loop); null when it could not be asked (see notes). */
  deopts: DeoptSummary | null;
  /** Notes for the user (libraries without symbols, and the like). */
  notes: string[];
}

/** V8 copies the trace file's name into a 128-byte buffer: a longer path is cut, and V8 dies if it cannot open what is left. */
const MAX_TRACE_PATH_BYTES = 128;

/**
 * The V8 flags that make it log each deoptimization (`code-deopt` events in its log, with the
 * reason) and trace its optimizations, aborted ones included, into a file of ours. On V8 11.3–13.6
 * --log-deopt also prints every deoptimization on stdout, which is the command's: the code trace is
 * redirected into the work directory, and it must be a regular file V8 can open, or V8 dies at the
 * first deoptimization (docs/v8.md, "Deoptimizations").
 */
function deoptFlags(workDir: string): { flags: string[]; trace: string } | { flags: []; note: string } {
  const trace = path.join(workDir, 'v8-code-trace.txt');
  const bytes = Buffer.byteLength(trace);
  if (bytes > MAX_TRACE_PATH_BYTES) {
    return { flags: [], note: `deopt loops are not measured: V8 takes a trace file path of at most ${MAX_TRACE_PATH_BYTES} bytes, and the work directory's gives ${bytes} (set TMPDIR to a shorter directory)` };
  }
  return { flags: ['--log-deopt', '--trace-opt', '--redirect-code-traces', `--redirect-code-traces-to=${trace}`], trace };
}

/**
 * Runs the command under perf or with V8's tick log and reads the samples into a native profile.
 * With perf, V8 writes perf maps (`--perf-basic-prof`) so JavaScript shows between the C++ frames.
 */
export async function captureNative(run: CaptureRun): Promise<CaptureResult> {
  const intervalMicros = Math.round(1e6 / run.frequency);
  const builder = new NativeProfileBuilder(intervalMicros);
  const add = (s: NativeSample) => builder.add(s);
  const notes: string[] = [];
  if (run.method === 'perf') {
    const data = path.join(run.workDir, 'perf.data');
    // V8 11.3 also opens a V8 log under --perf-basic-prof: keep it out of the user's directory.
    const v8Log = ['--logfile=' + path.join(run.workDir, 'perf-v8.log'), '--no-logfile-per-isolate'];
    // No --interpreted-frames-native-stack: with it, V8 11.3's CPU profiler (the agent samples
    // JavaScript beside perf) deadlocks in its signal handler when a tick lands while the main
    // thread holds the code-object registry lock (seen during Error stack capture). Interpreted
    // frames then show as the interpreter's trampoline; hot code is compiled and named anyway.
    // --no-compact-code-space: perf maps do not follow code that V8 moves when it compacts.
    // With node on the command line, the same log gets V8's code and deoptimization events.
    const deopt = isNodeCommand(run.command) ? deoptFlags(run.workDir) : null;
    const logCode = deopt && 'trace' in deopt ? ['--log-code', ...deopt.flags] : [];
    const { command, env } = withV8Flags(run, ['--perf-basic-prof', '--no-compact-code-space', ...v8Log, ...logCode]);
    // perf stamps samples with CLOCK_MONOTONIC (-k mono), the clock PerfMapTail stamps map lines with.
    const tail = new PerfMapTail();
    const record = ['record', '-q', '-k', 'mono', '-F', String(run.frequency), '-g', '-o', data, '--', ...command];
    const outcome = await runChild('perf', record, env, (child) => child.pid !== undefined && tail.start(child.pid));
    tail.stop();
    let deopts: DeoptSummary | null = null;
    if (deopt && 'trace' in deopt) deopts = await readDeopts(path.join(run.workDir, 'perf-v8.log'), deopt.trace, false);
    else notes.push(deopt ? deopt.note : "deopt loops are not measured: V8's deoptimization log needs the command to start node itself (NODE_OPTIONS cannot carry --log-deopt)");
    const maps = new Map<number, PerfMap | null>();
    const jitName = (pid: number, address: number, time: number) => {
      if (!maps.has(pid)) maps.set(pid, tail.mapFor(pid));
      return maps.get(pid)?.lookup(address, time) ?? null;
    };
    const parser = new PerfScriptParser(add, jitName);
    const script = spawn('perf', ['script', '-i', data, '--ns', '-F', 'comm,pid,tid,time,ip,sym,dso'], { stdio: ['ignore', 'pipe', 'ignore'] });
    // perf ran a moment ago, but a failure to start `perf script` must not be an unhandled 'error'.
    script.on('error', (error) => notes.push(`perf script could not run: ${error.message}`));
    await readLines(script.stdout, (l) => parser.line(l));
    parser.end();
    // The maps are ours (written by the processes we ran) and grow with every run: leave none.
    for (const pid of parser.pids) fs.rmSync(`/tmp/perf-${pid}.map`, { force: true });
    return { ...outcome, profile: builder.result(), deopts, notes };
  }
  const log = path.join(run.workDir, 'v8.log');
  const interval = `--prof-sampling-interval=${intervalMicros}`;
  // The tick log needs node on the command line (flame checks), so the deoptimization flags go there too.
  const deopt = deoptFlags(run.workDir);
  if (!('trace' in deopt)) notes.push(deopt.note);
  // Without --no-short-builtin-calls V8 runs builtins from a copy that the log gives no address for.
  const { command, env } = withV8Flags(run, ['--prof', interval, '--no-short-builtin-calls', `--logfile=${log}`, '--no-logfile-per-isolate', ...deopt.flags]);
  const outcome = await runChild(command[0]!, command.slice(1), env);
  const parser = new TickLogParser(add);
  const events = 'trace' in deopt ? new DeoptEvents() : null;
  if (fs.existsSync(log)) {
    await readLines(fs.createReadStream(log), (l) => {
      parser.line(l);
      events?.logLine(l);
    });
  } else notes.push('the command wrote no V8 tick log (did it start node?)');
  for (const lib of parser.unsymbolized) notes.push(`no C++ symbols for ${lib} (is binutils' nm installed?): its frames are named by library only`);
  if (events && 'trace' in deopt && fs.existsSync(deopt.trace)) await readLines(fs.createReadStream(deopt.trace), (l) => events.traceLine(l));
  return { ...outcome, profile: builder.result(), deopts: events && fs.existsSync(log) ? events.result() : null, notes };
}

/**
 * Deoptimization events from a V8 log and its code trace (the trace is missing when nothing was
 * traced). Under perf the agent's CPU profile runs beside the log, and V8 then logs no
 * deoptimizations (`deoptsLogged` false): the trace's aborted compilations still count.
 */
async function readDeopts(log: string, trace: string, deoptsLogged: boolean): Promise<DeoptSummary | null> {
  if (!fs.existsSync(log)) return null;
  const events = new DeoptEvents();
  await readLines(fs.createReadStream(log), (l) => events.logLine(l));
  if (fs.existsSync(trace)) await readLines(fs.createReadStream(trace), (l) => events.traceLine(l));
  return events.result(deoptsLogged);
}

/**
 * Puts V8 flags on a direct `node ...` command line; for anything else (`npm start`, a shell
 * script) they go through NODE_OPTIONS, which allows the perf flags but not --prof.
 */
function withV8Flags(run: CaptureRun, flags: string[]): { command: string[]; env: NodeJS.ProcessEnv } {
  if (isNodeCommand(run.command)) return { command: [run.command[0]!, ...flags, ...run.command.slice(1)], env: run.env };
  const allowed = flags.filter((f) => f.startsWith('--perf'));
  if (flags.includes('--no-compact-code-space')) allowed.push(`--require ${JSON.stringify(STABLE_CODE_SPACE)}`);
  return { command: run.command, env: { ...run.env, NODE_OPTIONS: [run.env.NODE_OPTIONS, ...allowed].filter(Boolean).join(' ') } };
}

async function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): Promise<void> {
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of rl) onLine(line);
}
