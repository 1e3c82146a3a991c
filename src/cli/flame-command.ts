import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCodes, PreheatError } from '../errors';
import { captureNative, checkPerf, isNodeCommand, type CaptureMethod } from '../native/capture';
import type { DeoptSummary } from '../native/deopt-events';
import type { NativeProfile } from '../native/native-model';
import { loadInputs } from '../profile/load-inputs';
import { emptyModel, type StackModel } from '../profile/stack-model';
import { writeReport } from '../report/write-report';
import { runChild } from '../run-child';
import type { Io } from './io';
import { recordingEnv } from './record-command';
import { printReport } from './print-report';
import { percent, textTable } from './table';
import { usageError } from './usage-error';

/** A whole day: the agent samples the entire run as one window. */
const WHOLE_RUN_MS = String(24 * 3600_000);
/**
 * A profiling run is short and meant to be looked at: 1 kHz, not the always-on recording's 25 Hz
 * (docs/overhead.md), unless the user's environment sets a rate.
 */
const FLAME_INTERVAL_MICROS = '1000';

/**
 * `preheat flame [--native] [--capture auto|perf|prof] [--out DIR] -- <command...>`: runs the
 * command with the agent sampling JavaScript the whole time and, with --native, under Linux perf
 * (or V8's tick log when perf is not permitted), then writes everything `preheat report` writes,
 * native frames classified by cost category.
 */
export async function flameCommand(args: string[], io: Io): Promise<number> {
  const split = args.indexOf('--');
  const own = split === -1 ? args : args.slice(0, split);
  const command = split === -1 ? [] : args.slice(split + 1);
  let values: { native?: boolean; capture?: string; out?: string; frequency?: string; top?: string };
  try {
    ({ values } = parseArgs({
      args: own,
      options: { native: { type: 'boolean' }, capture: { type: 'string' }, out: { type: 'string', short: 'o' }, frequency: { type: 'string' }, top: { type: 'string' } },
    }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  if (command.length === 0) throw usageError('flame needs a command after `--`, e.g. preheat flame --native -- node app.js');
  const capture = values.capture ?? 'auto';
  if (!['auto', 'perf', 'prof'].includes(capture)) throw usageError(`--capture must be auto, perf or prof, not ${JSON.stringify(capture)}`);
  if (values.capture && !values.native) throw usageError('--capture only applies with --native');
  const frequency = values.frequency === undefined ? 997 : Number(values.frequency);
  if (!Number.isInteger(frequency) || frequency < 1 || frequency > 20_000) throw usageError('--frequency must be an integer from 1 to 20000 (samples per second)');
  const top = values.top === undefined ? 15 : Number(values.top);
  if (!Number.isSafeInteger(top) || top < 1) throw usageError('--top must be a positive integer');
  const out = path.resolve(values.out ?? 'preheat-flame');

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'preheat-flame-'));
  try {
    const jsDir = path.join(workDir, 'js');
    const method = values.native ? chooseMethod(capture as 'auto' | CaptureMethod, command, workDir, io) : null;
    // V8 stops writing its tick log while a CPU profile runs, so with --prof the tick log is the only
    // sampler (its code-source-info gives the lines); otherwise the agent samples JavaScript.
    const env =
      method === 'prof'
        ? { ...process.env }
        : recordingEnv(jsDir, {
            PREHEAT_WINDOW_MS: WHOLE_RUN_MS,
            PREHEAT_PERIOD_MS: WHOLE_RUN_MS,
            PREHEAT_SAMPLE_INTERVAL_MICROS: process.env.PREHEAT_SAMPLE_INTERVAL_MICROS ?? FLAME_INTERVAL_MICROS,
          });

    let outcome: { code: number | null; signal: NodeJS.Signals | null };
    let native: NativeProfile | null = null;
    let deopts: DeoptSummary | null = null;
    try {
      if (method) {
        const result = await captureNative({ command, env, workDir, method, frequency });
        outcome = result;
        native = result.profile;
        deopts = result.deopts;
        for (const note of result.notes) io.err(`preheat: ${note}\n`);
      } else {
        outcome = await runChild(command[0]!, command.slice(1), env);
      }
    } catch (error) {
      throw new PreheatError(ErrorCodes.input, `cannot run ${JSON.stringify(method === 'perf' ? 'perf' : command[0])}: ${(error as Error).message}`);
    }

    if (native && native.mainSamples === 0 && method === 'perf') {
      // perf ran but recorded nothing usable (it failed after starting, or the command was not node): say so, keep the JS report.
      io.err('preheat: perf recorded no samples of the command; writing the JavaScript-level report only\n');
      native = null;
    }
    const model = method === 'prof' && native ? native.jsModel : jsModel(jsDir);
    if (model.totalSamples === 0 && !native?.mainSamples) {
      throw new PreheatError(ErrorCodes.input, 'no samples: the command ran no JavaScript, or ended before it could be sampled');
    }
    const source = method === 'perf' ? 'perf' : 'v8-tick-log';
    const report = writeReport(model, {
      out,
      title: `preheat flame — ${command.join(' ')}`,
      top,
      ...(native ? { native: { profile: native, source, deopts } } : {}),
    });

    io.out(
      method === 'prof'
        ? `${native?.mainSamples ?? 0} samples from V8's tick log\n\n`
        : `${model.totalSamples} JavaScript samples${native ? `, ${native.mainSamples} native samples on the main thread (perf)` : ''}\n\n`,
    );
    if (report.native) {
      io.out('Where the main thread went\n');
      io.out(textTable([['share', 'samples', 'category'], ...report.native.categories.map((c) => [percent(c.share), String(c.samples), c.label])], 2));
      io.out('\n');
    }
    printReport(report, io);

    // Ending the command with Ctrl-C or a TERM is how a server run ends: not a failure.
    if (outcome.signal === 'SIGINT' || outcome.signal === 'SIGTERM') return 0;
    if (outcome.code) io.err(`preheat: the command exited with code ${outcome.code}\n`);
    return outcome.code ?? 1;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** perf when it may run; else V8's tick log, which needs `node` on the command line itself. */
function chooseMethod(wanted: 'auto' | CaptureMethod, command: string[], workDir: string, io: Io): CaptureMethod | null {
  if (wanted !== 'prof') {
    const perf = checkPerf(workDir);
    if (perf.ok) return 'perf';
    if (wanted === 'perf') throw new PreheatError(ErrorCodes.input, `${perf.reason}; try --capture prof`);
    io.err(`preheat: ${perf.reason}; capturing native frames with V8's tick log (--prof) instead\n`);
  }
  if (isNodeCommand(command)) return 'prof';
  io.err(
    `preheat: V8's tick log needs the command to start node itself (NODE_OPTIONS cannot carry --prof), not ${JSON.stringify(command[0])}; ` +
      'writing the JavaScript-level report only\n',
  );
  return null;
}

function jsModel(dir: string): StackModel {
  try {
    return loadInputs([dir]).model;
  } catch {
    // The command ended before the agent wrote a profile: the native samples still tell.
    return emptyModel();
  }
}
