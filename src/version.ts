import * as fs from 'node:fs';
import * as path from 'node:path';

/** preheat's own version, from its package.json (two levels above dist/src/). */
export function preheatVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
