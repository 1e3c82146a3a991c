import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as acorn from 'acorn';
import { LEAST_UPPER_BOUND, originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';

/** A file of the profiled app, as the engine ran it. */
export interface SourceFile {
  url: string;
  /** Absolute path on disk. */
  path: string;
  text: string;
  /** `lines[i]` is line i + 1. */
  lines: string[];
  /** acorn's tree with `loc` on every node; null when the file is not plain JavaScript. */
  ast: acorn.Program | null;
}

export interface DisplayLocation {
  file: string;
  line: number;
}

/** The sources the detectors read. Profiles are untrusted: only local files, nothing fetched or run. */
export interface SourceFiles {
  get(url: string): SourceFile | null;
  /** Where to show a position: the original source through a source map when there is one. */
  display(url: string, line: number, column?: number): DisplayLocation;
}

/** Bigger files are bundles or generated data: parsing them costs more than a finding is worth. */
const MAX_SOURCE_BYTES = 8 * 1024 * 1024;

export function createSourceFiles(cwd: string = process.cwd()): SourceFiles {
  const files = new Map<string, SourceFile | null>();
  const maps = new Map<string, TraceMap | null>();

  const get = (url: string): SourceFile | null => {
    if (files.has(url)) return files.get(url)!;
    const file = load(url);
    files.set(url, file);
    return file;
  };

  const mapFor = (file: SourceFile): TraceMap | null => {
    if (maps.has(file.path)) return maps.get(file.path)!;
    const map = loadSourceMap(file);
    maps.set(file.path, map);
    return map;
  };

  return {
    get,
    display(url, line, column = 1) {
      const file = get(url);
      if (file) {
        const map = mapFor(file);
        if (map) {
          // Line-level positions point at column 0, before the line's first mapped segment
          // (indentation): then the nearest segment after it on that line answers.
          let original = originalPositionFor(map, { line, column: Math.max(0, column - 1) });
          if (!original.source) original = originalPositionFor(map, { line, column: Math.max(0, column - 1), bias: LEAST_UPPER_BOUND });
          if (original.source && original.line) {
            const source = original.source.startsWith('file://') ? fileURLToPath(original.source) : original.source;
            return { file: shortPath(path.resolve(path.dirname(file.path), source), cwd), line: original.line };
          }
        }
        return { file: shortPath(file.path, cwd), line };
      }
      return { file: url.startsWith('file://') ? shortPath(safePath(url) ?? url, cwd) : url, line };
    },
  };
}

function load(url: string): SourceFile | null {
  const abs = url.startsWith('file://') ? safePath(url) : path.isAbsolute(url) ? url : null;
  if (!abs) return null;
  try {
    const st = fs.statSync(abs);
    if (!st.isFile() || st.size > MAX_SOURCE_BYTES) return null;
    const text = fs.readFileSync(abs, 'utf8');
    return { url, path: abs, text, lines: text.split(/\r?\n/), ast: parse(text) };
  } catch {
    return null;
  }
}

function parse(text: string): acorn.Program | null {
  for (const sourceType of ['script', 'module'] as const) {
    try {
      return acorn.parse(text, {
        ecmaVersion: 'latest',
        sourceType,
        locations: true,
        allowHashBang: true,
        allowReturnOutsideFunction: sourceType === 'script',
        allowAwaitOutsideFunction: true,
      });
    } catch {
      // try the other source type
    }
  }
  return null;
}

/** The file's source map: an inline data URL or a file next to it. Never fetched from a network. */
function loadSourceMap(file: SourceFile): TraceMap | null {
  const m = /\/\/[#@]\s*sourceMappingURL=(\S+)\s*$/.exec(file.text.slice(-4096).trimEnd());
  if (!m) return null;
  const ref = m[1]!;
  try {
    let json: string;
    if (ref.startsWith('data:')) {
      const comma = ref.indexOf(',');
      const meta = ref.slice(5, comma);
      const data = ref.slice(comma + 1);
      json = meta.endsWith(';base64') ? Buffer.from(data, 'base64').toString('utf8') : decodeURIComponent(data);
    } else if (/^[a-z]+:/i.test(ref) && !ref.startsWith('file:')) {
      return null;
    } else {
      const mapPath = ref.startsWith('file:') ? fileURLToPath(ref) : path.resolve(path.dirname(file.path), decodeURIComponent(ref));
      if (fs.statSync(mapPath).size > MAX_SOURCE_BYTES * 4) return null;
      json = fs.readFileSync(mapPath, 'utf8');
    }
    return new TraceMap(json, file.url);
  } catch {
    return null;
  }
}

function safePath(url: string): string | null {
  try {
    return fileURLToPath(url);
  } catch {
    return null;
  }
}

function shortPath(abs: string, cwd: string): string {
  const rel = path.relative(cwd, abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : abs;
}
