import { gunzipSync } from 'node:zlib';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Profile } from 'pprof-format';
import { ModelBuilder } from './model-builder';
import { frameKind, type StackModel } from './stack-model';

/**
 * The most bytes a pprof profile may take once inflated. Gzip packs zeros a thousand to one, so a
 * 2 MB file could ask for 2 GB; decoding then takes several times that in objects. A million-sample
 * profile is under 1 MB inflated (fleet-wide merges in Pyroscope reach tens of MB): 64 MiB is far
 * above what real profiles need, and decodes in well under 2 GB of heap.
 */
export const MAX_PPROF_BYTES = 64 * 1024 * 1024;

/** Something wrong inside a profile that is pprof: the message says what, the caller adds the file. */
export class PprofProblem extends Error {}

/**
 * Reads a pprof profile (profile.proto, gzipped or not) into the stack model. Counts come from the
 * `samples`/`count` value when the profile has one, else from its first value. A location's lines
 * list inlined frames innermost first; each becomes a frame of its own.
 */
export function fromPprof(data: Uint8Array): StackModel {
  const raw = isGzip(data) ? inflate(data) : data;
  if (raw.length > MAX_PPROF_BYTES) throw new PprofProblem(`a pprof profile of ${mib(raw.length)} MiB is larger than the ${mib(MAX_PPROF_BYTES)} MiB preheat reads`);
  const p = Profile.decode(raw);
  // Protobuf decodes many byte strings without complaint; a real profile names its sample types.
  if (p.sampleType.length === 0 || p.stringTable.strings[0] !== '') throw new Error('no sample types: not a pprof profile');
  const str = (i: number | bigint) => p.stringTable.strings[Number(i)] ?? '';
  const types = p.sampleType.map((t) => str(t.type));
  let valueIndex = types.findIndex((t) => t === 'samples' || t === 'sample' || t === 'count');
  if (valueIndex < 0) valueIndex = 0;

  const functions = new Map(p.function.map((f) => [String(f.id), f]));
  const locations = new Map(p.location.map((l) => [String(l.id), l]));
  const builder = new ModelBuilder();
  /** Per location: its frames innermost first, and the innermost line. */
  const resolved = new Map<string, { frames: number[]; line: number }>();
  const resolve = (id: string) => {
    let r = resolved.get(id);
    if (r) return r;
    const loc = locations.get(id);
    const frames: number[] = [];
    let line = 0;
    for (const [i, l] of (loc?.line ?? []).entries()) {
      const fn = functions.get(String(l.functionId));
      const name = fn ? str(fn.name) || str(fn.systemName) : '';
      const file = fn ? str(fn.filename) : '';
      const url = path.isAbsolute(file) ? pathToFileURL(file).href : file;
      frames.push(builder.frame({ name, url, line: Number(fn?.startLine ?? 0), column: 0, kind: frameKind(name, url) }));
      if (i === 0) line = Number(l.line);
    }
    if (frames.length === 0) frames.push(builder.frame({ name: `0x${BigInt(loc?.address ?? 0).toString(16)}`, url: '', line: 0, column: 0, kind: 'native' }));
    r = { frames, line };
    resolved.set(id, r);
    return r;
  };

  for (const [i, s] of p.sample.entries()) {
    const count = countOf(s.value[valueIndex] ?? 0);
    if (count === null) throw new PprofProblem(`sample #${i + 1} has ${types[valueIndex] || 'value'} ${signed(s.value[valueIndex]!)}; counts are whole numbers from 0 to 2^53`);
    if (count === 0) continue;
    const stack: number[] = [];
    // locationId is leaf first; within a location, lines are innermost first too. A stack may
    // be 200 000 frames deep: pushed one by one, never spread into arguments.
    for (const id of s.locationId) for (const f of resolve(String(id)).frames) stack.push(f);
    stack.reverse();
    const leaf = s.locationId.length ? resolve(String(s.locationId[0])).line : 0;
    builder.add(stack, count, leaf);
    if (builder.totalSamples > Number.MAX_SAFE_INTEGER) throw new PprofProblem('its counts add up to more samples than can be counted exactly');
  }
  const duration = countOf(p.durationNanos ?? 0);
  return builder.build(duration === null ? 0 : duration / 1000);
}

/**
 * pprof values are int64; pprof-format decodes small ones as numbers and the rest as unsigned
 * bigints, so a negative value arrives as 2^64 minus it. Null for what is not a count.
 */
function countOf(v: number | bigint): number | null {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
  return Number.isSafeInteger(v) && v >= 0 ? v : null;
}

function signed(v: number | bigint): string {
  return typeof v === 'bigint' && v >= 2n ** 63n ? String(v - 2n ** 64n) : String(v);
}

/** Gunzip with a cap on the output: a gzip bomb stops at the cap instead of filling memory. */
function inflate(data: Uint8Array): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: MAX_PPROF_BYTES + 1 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PprofProblem(`it inflates to more than ${mib(MAX_PPROF_BYTES)} MiB, the most preheat reads from a gzipped pprof profile (a gzip bomb, or not a CPU profile)`);
    }
    throw error;
  }
}

const mib = (bytes: number) => Math.round(bytes / (1024 * 1024));

export function isGzip(data: Uint8Array): boolean {
  return data.length > 2 && data[0] === 0x1f && data[1] === 0x8b;
}
