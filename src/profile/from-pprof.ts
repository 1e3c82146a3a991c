import { gunzipSync } from 'node:zlib';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Profile } from 'pprof-format';
import { ModelBuilder } from './model-builder';
import { frameKind, type StackModel } from './stack-model';

/**
 * Reads a pprof profile (profile.proto, gzipped or not) into the stack model. Counts come from the
 * `samples`/`count` value when the profile has one, else from its first value. A location's lines
 * list inlined frames innermost first; each becomes a frame of its own.
 */
export function fromPprof(data: Uint8Array): StackModel {
  const raw = isGzip(data) ? gunzipSync(data) : data;
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

  for (const s of p.sample) {
    const count = Number(s.value[valueIndex] ?? 0);
    if (!(count > 0)) continue;
    const stack: number[] = [];
    // locationId is leaf first; within a location, lines are innermost first too.
    for (const id of s.locationId) stack.push(...resolve(String(id)).frames);
    stack.reverse();
    const leaf = s.locationId.length ? resolve(String(s.locationId[0])).line : 0;
    builder.add(stack, count, leaf);
  }
  return builder.build(Number(p.durationNanos) / 1000);
}

export function isGzip(data: Uint8Array): boolean {
  return data.length > 2 && data[0] === 0x1f && data[1] === 0x8b;
}
