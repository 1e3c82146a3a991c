import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, PreheatError } from '../errors';
import type { CpuProfile } from './cpuprofile';
import { fromPprof, isGzip, PprofProblem } from './from-pprof';
import { fromCpuProfile, mergeInto, type StackModel } from './stack-model';

export type InputKind = 'cpuprofile' | 'pprof';

export interface LoadedInput {
  file: string;
  kind: InputKind;
  samples: number;
}

/**
 * The largest input file read. A .cpuprofile is parsed in one piece, and its parsed objects take
 * many times its size: 256 MiB is some 20 million samples (a million-sample `node --cpu-prof`
 * file is about 12 MB), and what a 4 GB heap still holds. Raw pprof has its own, lower cap.
 */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;

/** A directory entry with a profile's name that is not a regular file (a FIFO, socket, device, directory). */
export interface SkippedEntry {
  file: string;
  what: string;
}

/**
 * Converts every input once into one stack model: preheat directories (their .cpuprofile and pprof
 * files), .cpuprofile files (agent, `node --cpu-prof`, Chrome DevTools) and pprof files. Each bad
 * input is a PreheatError naming the file and what is wrong with it. In a directory, entries that
 * are not regular files are skipped (a FIFO would block the read forever) and listed in `skipped`.
 */
export function loadInputs(paths: string[], onFile: (file: string, index: number, count: number) => void = () => {}) {
  const skipped: SkippedEntry[] = [];
  const files = paths.flatMap((p) => expand(p, skipped));
  if (files.length === 0) throw new PreheatError(ErrorCodes.input, 'no input to read');
  let model: StackModel | null = null;
  const inputs: LoadedInput[] = [];
  for (const [i, file] of files.entries()) {
    onFile(file, i, files.length);
    const one = loadFile(file);
    inputs.push({ file, kind: one.kind, samples: one.model.totalSamples });
    model = model ? mergeInto(model, one.model) : one.model;
  }
  return { model: model!, inputs, skipped };
}

/** One warning line for the skipped entries, or null. */
export function skippedWarning(skipped: SkippedEntry[]): string | null {
  if (skipped.length === 0) return null;
  const list = skipped.map((s) => `${s.file} (${s.what})`);
  const shown = list.length > 3 ? [...list.slice(0, 3), `and ${list.length - 3} more`] : list;
  return `skipped ${skipped.length} ${skipped.length === 1 ? 'entry that is' : 'entries that are'} not a regular file: ${shown.join(', ')}`;
}

function expand(p: string, skipped: SkippedEntry[]): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new PreheatError(ErrorCodes.input, `${p} does not exist`);
  }
  if (!st.isDirectory()) return [p];
  const found: string[] = [];
  const names = fs
    .readdirSync(p)
    .filter((f) => /\.(cpuprofile|pb\.gz|pprof)$/.test(f))
    .sort();
  for (const name of names) {
    const file = path.join(p, name);
    let entry: fs.Stats;
    try {
      entry = fs.statSync(file); // follows links: a link to a profile is a profile
    } catch {
      skipped.push({ file, what: 'a dangling link' });
      continue;
    }
    if (entry.isFile()) found.push(file);
    else skipped.push({ file, what: fileType(entry) });
  }
  if (found.length === 0) {
    const why = skipped.length ? `: ${skippedWarning(skipped)}` : ' (profile.json keeps hot functions, not stacks)';
    throw new PreheatError(ErrorCodes.input, `${p} holds no .cpuprofile or pprof files${why}`);
  }
  return found;
}

function fileType(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/**
 * A regular file's bytes, at most `max`. Opened non-blocking, so that a FIFO (which would wait for
 * a writer forever) fails the fstat check instead of hanging the reporter; checked on the open
 * descriptor, so the file cannot be swapped between the check and the read.
 */
function readRegularFile(file: string, max: number): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new PreheatError(ErrorCodes.input, `${file} cannot be read: ${(error as Error).message}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new PreheatError(ErrorCodes.input, `${file} is ${fileType(st)}, not a regular file; save the profile to a file first`);
    if (st.size > max) throw new PreheatError(ErrorCodes.input, `${file} is larger than ${max >> 20} MiB; split the recording`);
    // Read to the end, not to st.size: a file still being written may have grown.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(st.size - total, 64 * 1024), max + 1 - total));
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > max) throw new PreheatError(ErrorCodes.input, `${file} is larger than ${max >> 20} MiB; split the recording`);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } catch (error) {
    if (error instanceof PreheatError) throw error;
    throw new PreheatError(ErrorCodes.input, `${file} cannot be read: ${(error as Error).message}`);
  } finally {
    fs.closeSync(fd);
  }
}

export function loadFile(file: string): { kind: InputKind; model: StackModel } {
  return loadBytes(file, readRegularFile(file, MAX_INPUT_BYTES));
}

/** One input's bytes, already read, into a stack model; `file` names it in errors. */
export function loadBytes(file: string, data: Buffer): { kind: InputKind; model: StackModel } {
  const first = data.subarray(0, 64).toString('utf8').trimStart()[0];
  if (isGzip(data) || (first !== '{' && first !== '[')) {
    try {
      return { kind: 'pprof', model: fromPprof(data) };
    } catch (error) {
      // Problems found in a pprof profile (a count, a size) name themselves; anything else means
      // the bytes are not a profile at all.
      if (error instanceof PprofProblem) throw new PreheatError(ErrorCodes.input, `${file}: ${error.message}`);
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

const COUNTS = 'counts are whole numbers from 0 to 2^53';
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const describe = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v)?.slice(0, 40) ?? String(v));

/**
 * Checks the parts of a DevTools profile the converter reads; a profile is untrusted input. Counts
 * (hitCount, positionTicks) are whole numbers from 0; ids are whole numbers, each node's once;
 * every sample names a node. Dangling or cyclic child ids are left to the converter, which skips
 * them (damaged files from other tools have them, and they change no count).
 */
function cpuProfileProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'it is not a JSON object';
  const p = v as Record<string, unknown>;
  if (!Array.isArray(p.nodes)) return 'it has no "nodes" list';
  const ids = new Set<number>();
  for (const [i, n] of (p.nodes as unknown[]).entries()) {
    const node = n as Record<string, unknown> | null;
    const cf = node?.callFrame as Record<string, unknown> | undefined;
    if (
      typeof node !== 'object' ||
      !node ||
      !Number.isSafeInteger(node.id) ||
      typeof cf !== 'object' ||
      !cf ||
      typeof cf.functionName !== 'string' ||
      typeof cf.url !== 'string' ||
      !Number.isSafeInteger(cf.lineNumber) ||
      !Number.isSafeInteger(cf.columnNumber) ||
      (node.children !== undefined && !(Array.isArray(node.children) && node.children.every((c) => Number.isSafeInteger(c))))
    ) {
      return `node #${i + 1} is malformed`;
    }
    if (ids.has(node.id as number)) return `node #${i + 1} repeats id ${node.id}`;
    ids.add(node.id as number);
    if (node.hitCount !== undefined && !isCount(node.hitCount)) return `node #${i + 1} has hitCount ${describe(node.hitCount)}; ${COUNTS}`;
    if (node.positionTicks !== undefined) {
      if (!Array.isArray(node.positionTicks)) return `node #${i + 1} has malformed positionTicks`;
      for (const t of node.positionTicks as unknown[]) {
        const tick = t as Record<string, unknown> | null;
        if (typeof tick !== 'object' || !tick || !Number.isSafeInteger(tick.line) || (tick.line as number) < 1) return `node #${i + 1} has malformed positionTicks`;
        if (!isCount(tick.ticks)) return `node #${i + 1} has ${describe(tick.ticks)} ticks on line ${tick.line}; ${COUNTS}`;
      }
    }
  }
  const nodes = p.nodes as { hitCount?: number }[];
  if (!(Array.isArray(p.samples) && p.samples.length) && nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0) > Number.MAX_SAFE_INTEGER) {
    return 'its hitCounts add up to more samples than can be counted exactly';
  }
  if (p.samples !== undefined) {
    if (!Array.isArray(p.samples)) return '"samples" is not a list of ids';
    for (const [i, s] of (p.samples as unknown[]).entries()) {
      if (!ids.has(s as number)) return `sample #${i + 1} names node ${describe(s)}, which the profile does not have`;
    }
  }
  if (p.timeDeltas !== undefined) {
    // Negative deltas are allowed: V8 writes them when ticks are recorded out of order.
    if (!Array.isArray(p.timeDeltas) || !(p.timeDeltas as unknown[]).every((d) => typeof d === 'number' && Number.isFinite(d))) return '"timeDeltas" is not a list of numbers';
    if (Array.isArray(p.samples) && p.timeDeltas.length !== p.samples.length) return `it has ${p.samples.length} samples but ${p.timeDeltas.length} timeDeltas`;
  }
  if (!Number.isFinite(p.startTime) || !Number.isFinite(p.endTime)) return 'it has no "startTime" and "endTime"';
  return null;
}
