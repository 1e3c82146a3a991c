import { spawn, type ChildProcess } from 'node:child_process';

/** Runs a child with the terminal, passing SIGINT/SIGTERM on and resolving with how it ended. */
export function runChild(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onSpawn: (child: ChildProcess) => void = () => {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit', env });
    onSpawn(child);
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const done = () => {
      process.removeListener('SIGINT', onInt);
      process.removeListener('SIGTERM', onTerm);
    };
    child.on('error', (error) => {
      done();
      reject(error);
    });
    child.on('exit', (code, signal) => {
      done();
      resolve({ code, signal });
    });
  });
}
