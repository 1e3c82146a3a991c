import type { CpuProfile } from '../profile/cpuprofile';
import { functionStats } from './function-stats';
import { SCHEMA_VERSION, type HotFunction, type SampleTotals, type WarmupProfile } from '../profile/schema';
import { fromCpuProfile } from '../profile/stack-model';
import { toAppFile } from '../profile/app-path';

/** Past this many distinct functions the coldest are dropped, so memory stays bounded in a long run. */
const MAX_TRACKED = 20_000;

interface Entry {
  name: string;
  file: string;
  line: number;
  column: number;
  self: number;
  total: number;
}

export interface RecordingMeta {
  preheatVersion: string;
  root: string;
  sampleIntervalMicros: number;
  /** URL prefixes of code to leave out: preheat's own, which is no part of the app's hot set. */
  ignoreUrlPrefixes: string[];
}

/** The hot functions of this process so far, summed over its sampling windows. */
export class Recording {
  private readonly entries = new Map<string, Entry>();
  private readonly samples: SampleTotals = { busy: 0, gc: 0, program: 0, native: 0 };
  private readonly startedAt = new Date().toISOString();
  /** One function of each file first sampled since the last `takeNewFiles()`. */
  private readonly newFiles = new Map<string, Entry>();
  private readonly seenFiles = new Set<string>();
  windows = 0;

  constructor(private readonly meta: RecordingMeta) {}

  add(profile: CpuProfile): void {
    const model = fromCpuProfile(profile);
    const { stats, totals } = functionStats(model);
    this.samples.busy += totals.busy;
    this.samples.gc += totals.gc;
    this.samples.program += totals.program;
    this.samples.native += totals.native;
    for (const s of stats.values()) {
      const frame = model.frames[s.frame]!;
      if (frame.kind !== 'js' || frame.line === 0) continue;
      if (this.meta.ignoreUrlPrefixes.some((p) => frame.url.startsWith(p))) continue;
      const file = toAppFile(frame.url, this.meta.root);
      if (file === null) continue;
      const key = `${file}:${frame.line}:${frame.column}`;
      const e = this.entries.get(key);
      if (e) {
        e.self += s.self;
        e.total += s.total;
        e.name ||= frame.name;
      } else {
        const entry = { name: frame.name, file, line: frame.line, column: frame.column, self: s.self, total: s.total };
        this.entries.set(key, entry);
        if (!this.seenFiles.has(file)) {
          this.seenFiles.add(file);
          this.newFiles.set(file, entry);
        }
      }
    }
    this.windows++;
    if (this.entries.size > MAX_TRACKED) this.prune();
  }

  /**
   * One function of each file sampled for the first time since the last call: the files whose
   * source a write has yet to index (the recorder hashes them one step each), found without
   * ranking the whole recording again.
   */
  takeNewFiles(): Entry[] {
    const out = [...this.newFiles.values()];
    this.newFiles.clear();
    return out;
  }

  /** True when some samples ran code of the app itself (a file under its root), not only a wrapper's. */
  touchesApp(): boolean {
    for (const e of this.entries.values()) if (e.self > 0 && !e.file.startsWith('/') && !e.file.startsWith('node:')) return true;
    return false;
  }

  /**
   * This process's recording as a first-generation profile of its `limit` hottest functions (the
   * only ones hashed); shares and the final ranking come from `rank`.
   */
  toProfile(limit: number, hash: (f: Entry) => string | null): WarmupProfile {
    const hottest = [...this.entries.values()].sort((a, b) => b.self - a.self || b.total - a.total).slice(0, limit);
    const hotFunctions: HotFunction[] = hottest.map((e) => ({
      name: e.name,
      file: e.file,
      line: e.line,
      column: e.column,
      sourceHash: hash(e),
      selfSamples: e.self,
      totalSamples: e.total,
      share: 0,
      totalShare: 0,
    }));
    return {
      schemaVersion: SCHEMA_VERSION,
      tool: 'preheat',
      preheatVersion: this.meta.preheatVersion,
      node: process.versions.node,
      v8: process.versions.v8,
      appRoot: this.meta.root,
      generation: 1,
      createdAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      sampleIntervalMicros: this.meta.sampleIntervalMicros,
      samples: { ...this.samples },
      hotFunctions,
    };
  }

  private prune(): void {
    const sorted = [...this.entries].sort((a, b) => b[1].total - a[1].total || b[1].self - a[1].self);
    for (const [key] of sorted.slice(MAX_TRACKED / 2)) this.entries.delete(key);
  }
}
