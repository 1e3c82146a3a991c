import * as fs from 'node:fs';
import * as nodeModule from 'node:module';

/**
 * Keeps V8's code cache for the app's modules in `dir`, so the next boot skips parsing and
 * compiling them: `module.enableCompileCache`, Node 22.1 and later. Returns what Node said, or
 * null where Node has no such thing (Node 20). An app that set NODE_COMPILE_CACHE keeps its own.
 * The directory is created first, private (0700): Node would create it readable by everyone, and
 * the cache holds the app's compiled code.
 */
export function enableCompileCache(dir: string): string | null {
  const enable = (nodeModule as { enableCompileCache?: (dir: string) => { status: number; message?: string; directory?: string } }).enableCompileCache;
  if (typeof enable !== 'function') return null;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    // Node says why it cannot use the directory, below.
  }
  const result = enable(dir);
  const names = (nodeModule as { constants?: { compileCacheStatus?: Record<string, number> } }).constants?.compileCacheStatus ?? {};
  const name = Object.keys(names).find((k) => names[k] === result.status) ?? String(result.status);
  return `${name}${result.directory ? ` (${result.directory})` : ''}${result.message ? `: ${result.message}` : ''}`;
}
