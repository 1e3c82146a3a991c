import type { CpuProfile, CpuProfileNode } from '../../src/profile/cpuprofile';
import { SCHEMA_VERSION, type HotFunction, type WarmupProfile } from '../../src/profile/schema';

/** A synthetic warm-up profile; shares are left for `rank` to compute. */
export function profileOf(functions: Partial<HotFunction>[], over: Partial<WarmupProfile> = {}): WarmupProfile {
  const hotFunctions = functions.map((f, i) => ({
    name: `f${i}`,
    file: 'lib/a.js',
    line: i + 1,
    column: 10,
    sourceHash: `sha256:${String(i).padStart(16, '0')}`,
    selfSamples: 0,
    totalSamples: 0,
    share: 0,
    totalShare: 0,
    ...f,
  }));
  const busy = hotFunctions.reduce((n, f) => n + f.selfSamples, 0);
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: 'preheat',
    preheatVersion: '0.0.0-test',
    node: '20.0.0',
    v8: '11.3',
    appRoot: '/srv/app',
    generation: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:01:00.000Z',
    sampleIntervalMicros: 1000,
    samples: { busy, gc: 0, program: 0, native: 0 },
    hotFunctions,
    ...over,
  };
}

type Spec = { name: string; url?: string; line?: number; self?: number; ticks?: [number, number][]; children?: Spec[] };

/**
 * A DevTools profile from a nested description; samples are emitted per node in tree order, so
 * counts are exact and `hitCount` agrees with `samples`.
 */
export function cpuProfileOf(roots: Spec[]): CpuProfile {
  const nodes: CpuProfileNode[] = [];
  const samples: number[] = [];
  const add = (s: Spec): number => {
    const id = nodes.length + 1;
    const node: CpuProfileNode = {
      id,
      callFrame: { functionName: s.name, scriptId: '1', url: s.url ?? 'file:///srv/app/a.js', lineNumber: s.line ?? 0, columnNumber: 4 },
      hitCount: s.self ?? 0,
      children: [],
    };
    if (s.ticks) node.positionTicks = s.ticks.map(([line, ticks]) => ({ line, ticks }));
    nodes.push(node);
    for (let i = 0; i < (s.self ?? 0); i++) samples.push(id);
    node.children = (s.children ?? []).map(add);
    return id;
  };
  add({ name: '(root)', url: '', children: roots });
  return { nodes, startTime: 0, endTime: samples.length * 1000, samples, timeDeltas: samples.map(() => 1000) };
}

/** Sample times in microseconds: the profile's start plus the running sum of its deltas. */
export function sampleTimes(p: CpuProfile): number[] {
  const out: number[] = [];
  let t = p.startTime;
  for (const d of p.timeDeltas ?? []) out.push((t += d));
  return out;
}
