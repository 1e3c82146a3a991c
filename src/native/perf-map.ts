import * as fs from 'node:fs';

/**
 * The JIT code names in `/tmp/perf-<pid>.map`, as V8 wrote them. The file is append-only and V8
 * reuses code addresses, so an address can appear several times: the latest entry wins (what
 * is hot at the end of a run was compiled last), where perf itself may pick any of them and name
 * a hot loop after long-dead code.
 */
export class PerfMap {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly order: Int32Array;
  private readonly names: string[];
  private readonly maxSize: number;
  private readonly cache = new Map<number, string | null>();

  constructor(text: string) {
    const rows: [number, number, number, string][] = [];
    let index = 0;
    for (const line of text.split('\n')) {
      const a = line.indexOf(' ');
      const b = line.indexOf(' ', a + 1);
      if (a <= 0 || b <= a) continue;
      const start = parseInt(line.slice(0, a), 16);
      const size = parseInt(line.slice(a + 1, b), 16);
      if (!Number.isFinite(start) || !Number.isFinite(size)) continue;
      rows.push([start, size, index++, line.slice(b + 1)]);
    }
    rows.sort((x, y) => x[0] - y[0] || x[2] - y[2]);
    this.starts = Float64Array.from(rows, (r) => r[0]);
    this.ends = Float64Array.from(rows, (r) => r[0] + r[1]);
    this.order = Int32Array.from(rows, (r) => r[2]);
    this.names = rows.map((r) => r[3]);
    this.maxSize = rows.reduce((m, r) => Math.max(m, r[1]), 0);
  }

  static read(file: string): PerfMap | null {
    try {
      return new PerfMap(fs.readFileSync(file, 'utf8'));
    } catch {
      return null;
    }
  }

  /** The name of the latest code written at `address`, or null. */
  lookup(address: number): string | null {
    const cached = this.cache.get(address);
    if (cached !== undefined) return cached;
    let lo = 0;
    let hi = this.starts.length - 1;
    let last = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= address) {
        last = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    let best = -1;
    // Every entry that can contain the address starts within maxSize below it.
    for (let i = last; i >= 0 && this.starts[i]! > address - this.maxSize - 1; i--) {
      if (address < this.ends[i]! && (best < 0 || this.order[i]! > this.order[best]!)) best = i;
    }
    const name = best < 0 ? null : this.names[best]!;
    this.cache.set(address, name);
    return name;
  }
}
