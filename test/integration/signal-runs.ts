import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { agent, cleanEnv, type Run } from '../helpers/run';

export interface Ended extends Run {
  /** The program was still running at the limit and was killed by the test: a hang. */
  hung: boolean;
}

/**
 * Runs `program` to its end, with or without the agent preloaded (after `preloads`, which load
 * first). `onStdout` sees the output so far as it arrives. A program still alive after `limitMs`
 * is killed and reported as hung: the limit is a safety net, not a measurement.
 */
export function runProgram(options: {
  program: string;
  withAgent: boolean;
  env?: NodeJS.ProcessEnv;
  preloads?: string[];
  onStdout?: (text: string, child: ChildProcess) => void;
  limitMs?: number;
}): Promise<Ended> {
  const args = [...(options.preloads ?? []).flatMap((p) => ['--require', p]), ...(options.withAgent ? ['--require', agent] : []), options.program];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: cleanEnv(options.env ?? {}),
      cwd: path.dirname(options.program),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let hung = false;
    const limit = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, options.limitMs ?? 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => {
      clearTimeout(limit);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr, hung });
    });
  });
}

/** An `onStdout` that sends each signal once, in order, when the output first contains its cue. */
export function sendOn(...steps: Array<[cue: string, signal: NodeJS.Signals, after?: () => void]>) {
  let next = 0;
  return (text: string, child: ChildProcess) => {
    while (next < steps.length && text.includes(steps[next]![0])) {
      const [, signal, after] = steps[next++]!;
      child.kill(signal);
      after?.();
    }
  };
}

/** How a run ended, for comparing a run under the agent with the same run without it. */
export const ending = (r: Run) => ({ code: r.code, signal: r.signal });
