import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CallFrame, CpuProfile, CpuProfileNode, PositionTick } from '../profile/cpuprofile';
import type { Sampler } from './sampler';
import { titledSampler } from './titled';

/** What v8-profiler-next returns with `setGenerateType(1)`: DevTools-like, but 1-based and with its own tick field. */
interface NativeNode {
  id: number;
  hitCount: number;
  callFrame: {
    functionName: string;
    scriptId: number;
    url: string;
    lineNumber: number;
    columnNumber: number;
    bailoutReason?: string;
    lineTicks?: { line: number; hitCount: number }[];
  };
  children: number[];
}

export interface NativeProfile {
  nodes: NativeNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
  delete(): void;
}

/** The addon's `cpu` object, as its dispatch.js uses it. */
export interface CpuBinding {
  setGenerateType(type: 0 | 1): void;
  setSamplingInterval(micros: number): void;
  startProfiling(name: string, recordSamples: boolean, mode: 0 | 1): void;
  stopProfiling(name: string): NativeProfile | undefined;
}

/**
 * Loads the compiled addon itself rather than the package's entry: the entry goes through
 * node-pre-gyp's path finder (about 15 ms of start-up here) and sets `process.profiler` in the
 * app's process. The addon sits where node-pre-gyp builds it, one folder per Node ABI, so several
 * Node versions can share one install. When that layout is not there, the package entry is used.
 */
export function loadCpuBinding(): CpuBinding {
  const pkg = require.resolve('v8-profiler-next/package.json');
  const file = path.join(
    path.dirname(pkg),
    'build',
    'binding',
    'Release',
    `node-v${process.versions.modules}-${process.platform}-${process.arch}`,
    'profiler.node',
  );
  if (fs.existsSync(file)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const binding = require(file) as { setup(o: object, check: () => object): void; cpu: CpuBinding };
    binding.setup({ debug: false, thread_id: 0 }, () => ({ greater_than_12_15_0: true }));
    return binding.cpu;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const entry = require('v8-profiler-next') as CpuBinding & { startProfiling(n: string, r: boolean, m: 0 | 1): void };
  return entry;
}

/**
 * The primary backend: V8's CpuProfiler through the v8-profiler-next addon. Throws when the addon
 * cannot be loaded (not built, built for another Node ABI); the caller falls back.
 */
export function createNativeSampler(intervalMicros: number): Sampler {
  const cpu = loadCpuBinding();
  cpu.setGenerateType(1);
  cpu.setSamplingInterval(intervalMicros);
  return titledSampler('native', {
    // Lazy logging (mode 0): no cost while not sampling. See docs/v8.md, "CPU profiles". The
    // addon keeps profiles by title until they are stopped; while one runs, V8's profiler goes
    // on, so starting the next one is cheap.
    start: (title) => cpu.startProfiling(title, true, 0),
    end(title) {
      const raw = cpu.stopProfiling(title);
      if (!raw) return null;
      try {
        return toDevTools(raw);
      } finally {
        raw.delete();
      }
    },
    release() {},
  });
}

/** Normalizes the addon's output to the DevTools format the inspector writes (0-based, file URLs, positionTicks). */
export function toDevTools(raw: Pick<NativeProfile, 'nodes' | 'startTime' | 'endTime' | 'samples' | 'timeDeltas'>): CpuProfile {
  const nodes: CpuProfileNode[] = raw.nodes.map((n) => {
    const cf = n.callFrame;
    const callFrame: CallFrame = {
      functionName: cf.functionName,
      scriptId: String(cf.scriptId),
      url: cf.url.startsWith('/') ? pathToFileURL(cf.url).href : cf.url,
      lineNumber: Math.max(-1, cf.lineNumber - 1),
      columnNumber: Math.max(-1, cf.columnNumber - 1),
    };
    const node: CpuProfileNode = { id: n.id, callFrame, hitCount: n.hitCount, children: n.children };
    const ticks: PositionTick[] | undefined = cf.lineTicks?.map((t) => ({ line: t.line, ticks: t.hitCount }));
    if (ticks?.length) node.positionTicks = ticks;
    if (cf.bailoutReason) node.deoptReason = cf.bailoutReason;
    return node;
  });
  return { nodes, startTime: raw.startTime, endTime: raw.endTime, samples: raw.samples, timeDeltas: raw.timeDeltas };
}
