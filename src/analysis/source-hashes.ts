import * as fs from 'node:fs';
import { fromAppFile } from '../profile/app-path';
import { functionHash, indexSource, type SourceIndex } from '../profile/source-hash';

/**
 * Source hashes for profile entries, indexing each file once per (size, mtime). Runs at flush
 * time, never at start-up, and only for the functions the profile keeps.
 */
export class SourceHasher {
  private readonly files = new Map<string, { stamp: string; index: SourceIndex | null }>();

  constructor(private readonly root: string) {}

  hash(f: { file: string; line: number; column: number }): string | null {
    const abs = fromAppFile(f.file, this.root);
    if (abs === null) return null;
    const index = this.index(abs);
    return index ? functionHash(index, f.line, f.column) : null;
  }

  private index(abs: string): SourceIndex | null {
    try {
      const st = fs.statSync(abs);
      const stamp = `${st.size}:${st.mtimeMs}`;
      const cached = this.files.get(abs);
      if (cached?.stamp === stamp) return cached.index;
      const index = indexSource(fs.readFileSync(abs, 'utf8'));
      this.files.set(abs, { stamp, index });
      return index;
    } catch {
      return null;
    }
  }
}
