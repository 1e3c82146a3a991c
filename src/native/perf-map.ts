import * as fs from 'node:fs';

/**
 * The JIT code names in `/tmp/perf-<pid>.map`, as V8 wrote them. The file is append-only and V8
 * reuses code addresses: code it collects (optimized code is held weakly, and goes at the last
 * GCs of a run) leaves room for new code, so an address can appear several times. perf itself may
 * pick any of the names. Here each line can carry the time it was written (PerfMapTail): a
 * sample takes the latest name written before it; without times, the latest name wins.
 */
export class PerfMap {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly order: Int32Array;
  private readonly written: Float64Array;
  private readonly names: string[];
  private readonly maxSize: number;
  private readonly cache = new Map<number, number[]>();

  /** `writtenAt[i]`: when line i was written, in CLOCK_MONOTONIC nanoseconds (as perf -k mono). */
  constructor(text: string, writtenAt: readonly number[] = []) {
    const rows: [number, number, number, string, number][] = [];
    let index = 0;
    for (const [i, line] of text.split('\n').entries()) {
      const a = line.indexOf(' ');
      const b = line.indexOf(' ', a + 1);
      if (a <= 0 || b <= a) continue;
      const start = parseInt(line.slice(0, a), 16);
      const size = parseInt(line.slice(a + 1, b), 16);
      if (!Number.isFinite(start) || !Number.isFinite(size)) continue;
      rows.push([start, size, index++, line.slice(b + 1), writtenAt[i] ?? -Infinity]);
    }
    rows.sort((x, y) => x[0] - y[0] || x[2] - y[2]);
    this.starts = Float64Array.from(rows, (r) => r[0]);
    this.ends = Float64Array.from(rows, (r) => r[0] + r[1]);
    this.order = Int32Array.from(rows, (r) => r[2]);
    this.names = rows.map((r) => r[3]);
    this.written = Float64Array.from(rows, (r) => r[4]);
    this.maxSize = rows.reduce((m, r) => Math.max(m, r[1]), 0);
  }

  static read(file: string): PerfMap | null {
    try {
      return new PerfMap(fs.readFileSync(file, 'utf8'));
    } catch {
      return null;
    }
  }

  /**
   * The name of the code at `address` at `time` (ns): the latest entry written by then, else
   * (a sample in code written within the last poll) the earliest one.
   */
  lookup(address: number, time = Infinity): string | null {
    const candidates = this.candidates(address);
    let best = -1;
    for (const i of candidates) if (this.written[i]! <= time) best = i; // in write order: the last is the latest
    const at = best >= 0 ? best : candidates[0];
    return at === undefined ? null : this.names[at]!;
  }

  /** The entries containing `address`, in the order they were written; cached, as hot addresses repeat. */
  private candidates(address: number): number[] {
    const cached = this.cache.get(address);
    if (cached) return cached;
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
    const out: number[] = [];
    // Every entry that can contain the address starts within maxSize below it.
    for (let i = last; i >= 0 && this.starts[i]! > address - this.maxSize - 1; i--) if (address < this.ends[i]!) out.push(i);
    out.sort((a, b) => this.order[a]! - this.order[b]!);
    this.cache.set(address, out);
    return out;
  }
}

/**
 * Follows the perf maps of a process tree while it runs, stamping each line with the time it was
 * first seen (polled every `intervalMs`; a line is at most that late). Needs Linux's
 * /proc/<pid>/task/<tid>/children; without it, maps are read whole at the end (no times).
 */
export class PerfMapTail {
  private readonly files = new Map<number, { offset: number; text: string; times: number[] }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly dir = '/tmp') {}

  /** Follows the maps of `rootPid` and the processes below it. */
  start(rootPid: number, intervalMs = 20): void {
    this.timer = setInterval(() => this.poll(rootPid), intervalMs);
    this.timer.unref();
  }

  /** Stops following: later reads take what is left, stamped now. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The map of `pid` as followed, with whatever was written after the last poll. */
  mapFor(pid: number): PerfMap | null {
    this.read(pid);
    const f = this.files.get(pid);
    return f ? new PerfMap(f.text, f.times) : null;
  }

  private poll(rootPid: number): void {
    for (const pid of descendants(rootPid)) this.read(pid);
  }

  private read(pid: number): void {
    const file = `${this.dir}/perf-${pid}.map`;
    const state = this.files.get(pid) ?? { offset: 0, text: '', times: [] };
    let chunk: Buffer;
    try {
      const fd = fs.openSync(file, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        if (size <= state.offset) return;
        chunk = Buffer.alloc(size - state.offset);
        fs.readSync(fd, chunk, 0, chunk.length, state.offset);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return; // not written yet, or gone
    }
    // Only whole lines: V8 may be half-way through one.
    const end = chunk.lastIndexOf(0x0a) + 1;
    if (end === 0) return;
    const now = Number(process.hrtime.bigint());
    const lines = chunk.subarray(0, end).toString('utf8');
    state.offset += end;
    state.text += lines;
    for (let i = lines.indexOf('\n'); i >= 0; i = lines.indexOf('\n', i + 1)) state.times.push(now);
    this.files.set(pid, state);
  }
}

/** `pid` and every process below it, from /proc's children lists. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length && out.length < 10_000) {
    const p = queue.pop()!;
    out.push(p);
    let tasks: string[];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ')) if (c.trim()) queue.push(Number(c));
      } catch {
        // gone, or no children list on this kernel
      }
    }
  }
  return out;
}
