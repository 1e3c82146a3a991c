import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { Function as PFunction, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import type { StackModel } from '../profile/stack-model';

/**
 * The stack model as pprof (gzipped profile.proto), for `go tool pprof` and Grafana Pyroscope.
 * A leaf's samples are split by the line they fell on where the profile says; callers appear at
 * their function's first line (a .cpuprofile does not record call-site lines).
 */
export function toPprof(model: StackModel, startedAt: Date = new Date()): Buffer {
  const strings = new StringTable();
  const intervalNanos = model.totalSamples > 0 ? Math.max(1, Math.round((model.durationMicros * 1000) / model.totalSamples)) : 1_000_000;
  const functions: PFunction[] = [];
  const functionIds = new Map<number, number>();
  const locations: Location[] = [];
  const locationIds = new Map<string, number>();

  const functionId = (frame: number) => {
    let id = functionIds.get(frame);
    if (id === undefined) {
      const f = model.frames[frame]!;
      id = functions.length + 1;
      functions.push(
        new PFunction({
          id,
          name: strings.dedup(f.name || '(anonymous)'),
          systemName: strings.dedup(f.name || '(anonymous)'),
          filename: strings.dedup(displayFile(f.url)),
          startLine: f.line,
        }),
      );
      functionIds.set(frame, id);
    }
    return id;
  };
  const locationId = (frame: number, line: number) => {
    const key = `${frame}:${line}`;
    let id = locationIds.get(key);
    if (id === undefined) {
      id = locations.length + 1;
      locations.push(new Location({ id, line: [{ functionId: functionId(frame), line }] }));
      locationIds.set(key, id);
    }
    return id;
  };

  const samples: Sample[] = [];
  // Each node's own location as a caller; a sample's stack is read up the parent links, so a
  // 200 000-deep chain costs its depth once per sampled node, not a copied prefix per node.
  const callerLocation = new Array<number>(model.nodes.length);
  const stackAbove = (i: number) => {
    const ids: number[] = [];
    for (let p = model.nodes[i]!.parent; p > 0; p = model.nodes[p]!.parent) ids.push(callerLocation[p]!);
    return ids;
  };
  // Parents come before their children in `nodes`, so one forward pass sees every caller first.
  for (let i = 1; i < model.nodes.length; i++) {
    const n = model.nodes[i]!;
    const frame = model.frames[n.frame]!;
    callerLocation[i] = locationId(n.frame, frame.line);
    if (n.self <= 0 || frame.kind === 'idle') continue;
    const parents = stackAbove(i);
    let rest = n.self;
    const emit = (line: number, count: number) => {
      samples.push(new Sample({ locationId: [locationId(n.frame, line), ...parents], value: [count, count * intervalNanos] }));
    };
    for (const [line, ticks] of Object.entries(n.lines ?? {})) {
      const t = Math.min(ticks, rest);
      if (t > 0) emit(Number(line), t);
      rest -= t;
    }
    if (rest > 0) emit(frame.line, rest);
  }

  const profile = new Profile({
    sampleType: [
      new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }),
      new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    ],
    periodType: new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
    period: intervalNanos,
    timeNanos: BigInt(startedAt.getTime()) * 1_000_000n,
    durationNanos: Math.round(model.durationMicros * 1000),
    sample: samples,
    location: locations,
    function: functions,
    stringTable: strings,
  });
  return gzipSync(profile.encode());
}

function displayFile(url: string): string {
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch {
      return url;
    }
  }
  return url;
}
