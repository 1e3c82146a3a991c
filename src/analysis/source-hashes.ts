import * as fs from 'node:fs';
import { fromAppFile } from '../profile/app-path';
import type { SourceIndex } from '../profile/source-hash';

/**
 * Source hashes for profile entries of the app's own files, indexing each file once per (size,
 * mtime). Runs at flush time, never at start-up, and only for the functions the profile keeps.
 */
export class SourceHasher {
  private readonly files = new Map<string, { stamp: string; index: SourceIndex | null }>();

  constructor(private readonly root: string) {}

  hash(f: { file: string; line: number; column: number }): string | null {
    // Dependencies change only with an install, and parsing them costs the app: 2 MB of
    // node_modules took acorn 291 ms on the docs-shop fixture. The warm-up checks hashes of the
    // app's own files only (src/warmup/function-index.ts), so only those are hashed.
    if (f.file.includes('node_modules/')) return null;
    const abs = fromAppFile(f.file, this.root);
    if (abs === null) return null;
    const index = this.index(abs);
    return index ? sourceHash().functionHash(index, f.line, f.column) : null;
  }

  private index(abs: string): SourceIndex | null {
    try {
      const st = fs.statSync(abs);
      const stamp = `${st.size}:${st.mtimeMs}`;
      const cached = this.files.get(abs);
      if (cached?.stamp === stamp) return cached.index;
      const index = sourceHash().indexSource(fs.readFileSync(abs, 'utf8'));
      this.files.set(abs, { stamp, index });
      return index;
    } catch {
      return null;
    }
  }
}

/** Loaded at the first flush, not at start-up: the parser is a good part of the agent's load time. */
function sourceHash(): typeof import('../profile/source-hash') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../profile/source-hash') as typeof import('../profile/source-hash');
}
