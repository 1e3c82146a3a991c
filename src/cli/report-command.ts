import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadInputs, skippedWarning } from '../profile/load-inputs';
import { writeReport } from '../report/write-report';
import type { Io } from './io';
import { createProgress } from './progress';
import { printReport } from './print-report';
import { usageError } from './usage-error';

/** Inputs past this size get a progress bar. */
const LARGE_INPUT_BYTES = 32 * 1024 * 1024;

/** `preheat report <input...> [--out DIR] [--open] [--top N]` */
export async function reportCommand(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { out: { type: 'string', short: 'o' }, open: { type: 'boolean' }, top: { type: 'string' } },
    });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length === 0) throw usageError('report needs at least one input: a preheat directory, .cpuprofile or pprof file');
  const top = values.top === undefined ? 15 : Number(values.top);
  if (!Number.isSafeInteger(top) || top < 1) throw usageError('--top must be a positive integer');
  const out = path.resolve(values.out ?? 'preheat-report');

  const progress = createProgress(inputBytes(positionals) > LARGE_INPUT_BYTES);
  const started = Date.now();
  const { model, inputs, skipped } = loadInputs(positionals, (file, i, n) => progress.step(i, n, `reading ${path.basename(file)}`));
  const warning = skippedWarning(skipped);
  if (warning) io.err(`preheat: ${warning}\n`);
  let stageNo = 0;
  const report = writeReport(model, {
    out,
    title: `preheat report — ${positionals.map((p) => path.basename(p)).join(', ')}`,
    top,
    onStage: (stage) => progress.step(++stageNo, 5, stage),
  });
  progress.done();

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  io.out(`${inputs.length} input${inputs.length === 1 ? '' : 's'}, ${model.totalSamples} samples, reported in ${seconds} s\n\n`);
  printReport(report, io);
  if (values.open) openInBrowser(report.files.html, io);
  return 0;
}

function inputBytes(paths: string[]): number {
  let total = 0;
  for (const p of paths) {
    try {
      const st = fs.statSync(p);
      total += st.isDirectory() ? fs.readdirSync(p).reduce((n, f) => n + safeSize(path.join(p, f)), 0) : st.size;
    } catch {
      // loadInputs reports missing inputs with a proper message
    }
  }
  return total;
}

function safeSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function openInBrowser(file: string, io: Io): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [file], { stdio: 'ignore', detached: true });
  child.on('error', () => io.err(`preheat: could not run ${opener}; open ${file} in a browser\n`));
  child.unref();
}
