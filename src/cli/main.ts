import { PreheatError } from '../errors';
import { preheatVersion } from '../version';
import { mergeCommand } from './merge-command';
import { recordCommand } from './record-command';
import { topCommand } from './top-command';
import { probeCommand } from './probe-command';
import { reportCommand } from './report-command';
import { diffCommand } from './diff-command';
import { flameCommand } from './flame-command';
import { doctorCommand } from './doctor-command';

import type { Io } from './io';
import { processIo } from './io';

const usage = `preheat — profile-guided warm-up and hot-path profiling for Node.js services

Usage:
  preheat record [--dir D] [--sampler S] -- <command...>   run a command with the agent in record mode
  preheat merge <profile.json...> --out F                  merge several instances' profiles into one
  preheat top [dir | profile.json] [-n N]                  the hottest functions of a profile
  preheat report <input...> [--out DIR] [--open] [--top N] flame graph, pprof, folded stacks, findings
  preheat diff <before> <after> [--out DIR] [--top N]      differential flame graph, biggest changes
  preheat flame [--native] [--capture auto|perf|prof] [--out DIR] -- <command...>
                                                           run a command and write its report; --native
                                                           adds V8's C++ costs (perf or V8's tick log)
  preheat probe [--port P] [--host H]                      exit 0 when the agent reports ready, 1 when not
  preheat doctor [--dir D] [--profile-dir D] [--json] [-- command...]
                                                           what the agent will do when this service boots:
                                                           one line per check; exit 0 ok, 1 warnings, 3 failure
  preheat help | --help                                    this text
  preheat --version                                        preheat's version

Settings for the agent are PREHEAT_* environment variables; see README.md.
Exit codes: 0 done, 1 failed, 2 bad usage; record and flame exit with the command's own code.`;

const commands: Record<string, (args: string[], io: Io) => Promise<number>> = {
  record: recordCommand,
  merge: mergeCommand,
  top: topCommand,
  probe: probeCommand,
  report: reportCommand,
  diff: diffCommand,
  flame: flameCommand,
  doctor: doctorCommand,
};

/** The CLI is a thin layer over the library: it parses, calls, and turns errors into one line and a code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(usage + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(preheatVersion() + '\n');
    return 0;
  }
  const command = commands[name];
  if (!command) {
    io.err(`preheat: unknown command ${JSON.stringify(name)}; run \`preheat help\`\n`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    if (error instanceof PreheatError) {
      io.err(`preheat: ${error.message} [${error.code}]\n`);
      return error.exitCode;
    }
    io.err(`preheat: ${name} failed: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}
