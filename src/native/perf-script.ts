import * as path from 'node:path';
import { parseJsSymbol, stripParameters, type NativeFrame, type NativeSample } from './native-sample';

// `node  1972/1972  6334.712579304:` (the time with `-F time --ns`, CLOCK_MONOTONIC seconds).
const HEADER = /^(\S.*?)\s+(\d+)\/(\d+)(?:\s+(\d+)\.(\d+):)?\s*$/;
const FRAME = /^\s+([0-9a-f]+) (.*) \((.*)\)$/;

/**
 * Reads `perf script -F comm,pid,tid,ip,sym,dso` output a line at a time: a header
 * (`node  1972/1972`), then one frame per line, leaf first, then a blank line. JIT frames are
 * named by the `/tmp/perf-<pid>.map` that `--perf-basic-prof` writes.
 */
export class PerfScriptParser {
  private frames: NativeFrame[] = [];
  private mainThread = true;
  private open = false;
  /** The pids whose perf maps were read, so the caller can remove the maps. */
  readonly pids = new Set<number>();

  private pid = 0;
  private time = Infinity;

  /**
   * `jitName` names an address in JIT code at a time (ns) from the process's perf map
   * (perf-map.ts), over perf's choice.
   */
  constructor(
    private readonly onSample: (sample: NativeSample) => void,
    private readonly jitName: (pid: number, address: number, time: number) => string | null = () => null,
  ) {}

  line(text: string): void {
    if (text.trim() === '') {
      this.flush();
      return;
    }
    const header = HEADER.exec(text);
    if (header && !text.startsWith('\t') && !text.startsWith(' ')) {
      this.flush();
      const pid = Number(header[2]);
      this.pid = pid;
      this.time = header[4] === undefined ? Infinity : Number(header[4]) * 1e9 + Number(header[5]!.padEnd(9, '0').slice(0, 9));
      this.pids.add(pid);
      this.mainThread = pid === Number(header[3]);
      this.open = true;
      return;
    }
    const m = FRAME.exec(text);
    if (!m || !this.open) return;
    const dso = m[3]!;
    const jit = /\/perf-\d+\.map$/.test(dso) ? this.jitName(this.pid, parseInt(m[1]!, 16), this.time) : null;
    this.frames.push(perfFrame(jit ?? m[2]!, dso));
  }

  end(): void {
    this.flush();
  }

  private flush(): void {
    if (this.open && this.frames.length > 0) this.onSample({ frames: this.frames, mainThread: this.mainThread });
    this.frames = [];
    this.open = false;
  }
}

/**
 * Without --interpreted-frames-native-stack (see capture.ts) every interpreted function shows as
 * this one builtin: a JavaScript frame whose function perf cannot name.
 */
const INTERPRETED: NativeFrame = { name: '(interpreted JavaScript)', kind: 'js', url: '', line: 0, column: 0 };

function perfFrame(symbol: string, dso: string): NativeFrame {
  if (symbol === 'Builtins_InterpreterEntryTrampoline') return INTERPRETED;
  if (/\/perf-\d+\.map$/.test(dso)) {
    const js = parseJsSymbol(symbol);
    if (js) return js;
  }
  const lib = dso.includes('kernel') ? '[kernel]' : dso === '[unknown]' ? '' : path.basename(dso);
  const name = symbol === '[unknown]' ? `[unknown${lib ? ` in ${lib}` : ''}]` : stripParameters(symbol);
  return { name, kind: 'native', url: lib, line: 0, column: 0 };
}
