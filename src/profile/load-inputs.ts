import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, PreheatError } from '../errors';
import type { CpuProfile } from './cpuprofile';
import { fromPprof, isGzip } from './from-pprof';
import { fromCpuProfile, mergeInto, type StackModel } from './stack-model';

export type InputKind = 'cpuprofile' | 'pprof';

export interface LoadedInput {
  file: string;
  kind: InputKind;
  samples: number;
}

/** V8 cannot hold a string much past 512 MiB; a bigger .cpuprofile cannot be parsed in one piece. */
const MAX_INPUT_BYTES = 512 * 1024 * 1024;

/**
 * Converts every input once into one stack model: preheat directories (their .cpuprofile and pprof
 * files), .cpuprofile files (agent, `node --cpu-prof`, Chrome DevTools) and pprof files. Each bad
 * input is a PreheatError naming the file and what is wrong with it.
 */
export function loadInputs(paths: string[], onFile: (file: string, index: number, count: number) => void = () => {}) {
  const files = paths.flatMap(expand);
  if (files.length === 0) throw new PreheatError(ErrorCodes.input, 'no input to read');
  let model: StackModel | null = null;
  const inputs: LoadedInput[] = [];
  for (const [i, file] of files.entries()) {
    onFile(file, i, files.length);
    const one = loadFile(file);
    inputs.push({ file, kind: one.kind, samples: one.model.totalSamples });
    model = model ? mergeInto(model, one.model) : one.model;
  }
  return { model: model!, inputs };
}

function expand(p: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new PreheatError(ErrorCodes.input, `${p} does not exist`);
  }
  if (!st.isDirectory()) return [p];
  const found = fs
    .readdirSync(p)
    .filter((f) => /\.(cpuprofile|pb\.gz|pprof)$/.test(f))
    .sort()
    .map((f) => path.join(p, f));
  if (found.length === 0) {
    throw new PreheatError(ErrorCodes.input, `${p} holds no .cpuprofile or pprof files (profile.json keeps hot functions, not stacks)`);
  }
  return found;
}

export function loadFile(file: string): { kind: InputKind; model: StackModel } {
  let data: Buffer;
  try {
    if (fs.statSync(file).size > MAX_INPUT_BYTES) {
      throw new PreheatError(ErrorCodes.input, `${file} is larger than ${MAX_INPUT_BYTES >> 20} MiB; split the recording`);
    }
    data = fs.readFileSync(file);
  } catch (error) {
    if (error instanceof PreheatError) throw error;
    throw new PreheatError(ErrorCodes.input, `${file} cannot be read: ${(error as Error).message}`);
  }
  const first = data.subarray(0, 64).toString('utf8').trimStart()[0];
  if (isGzip(data) || (first !== '{' && first !== '[')) {
    try {
      return { kind: 'pprof', model: fromPprof(data) };
    } catch (error) {
      throw new PreheatError(ErrorCodes.input, `${file} is neither a .cpuprofile (JSON) nor a pprof profile (${(error as Error).message})`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch (error) {
    throw new PreheatError(ErrorCodes.input, `${file} is not valid JSON: ${(error as Error).message}`);
  }
  const problem = cpuProfileProblem(json);
  if (problem) throw new PreheatError(ErrorCodes.input, `${file} is not a .cpuprofile: ${problem}`);
  return { kind: 'cpuprofile', model: fromCpuProfile(json as CpuProfile) };
}

/** Checks the parts of a DevTools profile the converter reads; a profile is untrusted input. */
function cpuProfileProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'it is not a JSON object';
  const p = v as Record<string, unknown>;
  if (!Array.isArray(p.nodes)) return 'it has no "nodes" list';
  for (const [i, n] of (p.nodes as unknown[]).entries()) {
    const node = n as Record<string, unknown> | null;
    const cf = node?.callFrame as Record<string, unknown> | undefined;
    if (
      !node ||
      typeof node.id !== 'number' ||
      !cf ||
      typeof cf.functionName !== 'string' ||
      typeof cf.url !== 'string' ||
      typeof cf.lineNumber !== 'number' ||
      typeof cf.columnNumber !== 'number' ||
      (node.children !== undefined && !(Array.isArray(node.children) && node.children.every((c) => typeof c === 'number'))) ||
      (node.positionTicks !== undefined &&
        !(Array.isArray(node.positionTicks) && node.positionTicks.every((t) => typeof t?.line === 'number' && typeof t?.ticks === 'number')))
    ) {
      return `node #${i + 1} is malformed`;
    }
  }
  if (p.samples !== undefined && !(Array.isArray(p.samples) && p.samples.every((s) => typeof s === 'number'))) return '"samples" is not a list of ids';
  if (typeof p.startTime !== 'number' || typeof p.endTime !== 'number') return 'it has no "startTime" and "endTime"';
  return null;
}
