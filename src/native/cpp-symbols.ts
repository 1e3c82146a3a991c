import { execFileSync } from 'node:child_process';
import { stripParameters } from './native-sample';

/** A binary's function symbols, sorted by address, for V8 tick logs (which hold bare addresses). */
export interface SymbolTable {
  lookup(address: number): string | null;
  readonly size: number;
}

/**
 * Reads the text symbols of `binary` with binutils' `nm` (official Node builds keep V8's C++
 * symbols), shifted by `slide`. Null when nm is missing or fails: the caller names the frame
 * by its library.
 */
export function readSymbols(binary: string, slide: number): SymbolTable | null {
  let text: string;
  try {
    text = execFileSync('nm', ['-C', '-S', '--defined-only', binary], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
  return symbolTable(text, slide);
}

const LINE = /^([0-9a-f]+) (?:([0-9a-f]+) )?([tTwWiI]) (.+)$/;

/** Parses `nm -C -S` output. */
export function symbolTable(nmOutput: string, slide: number): SymbolTable {
  const rows: [number, number, string][] = [];
  for (const line of nmOutput.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    rows.push([parseInt(m[1]!, 16) + slide, m[2] ? parseInt(m[2], 16) : 0, m[4]!]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  const starts = Float64Array.from(rows, (r) => r[0]);
  return {
    size: rows.length,
    lookup(address) {
      let lo = 0;
      let hi = starts.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (starts[mid]! <= address) {
          found = mid;
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      if (found < 0) return null;
      const [start, size, name] = rows[found]!;
      // A sized symbol ends where it says; an unsized one is trusted up to the next symbol.
      if (size > 0 && address >= start + size) return null;
      return stripParameters(name);
    },
  };
}
