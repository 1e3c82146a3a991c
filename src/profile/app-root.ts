import * as fs from 'node:fs';
import * as path from 'node:path';

export interface AppRoot {
  /** The folder recorded file names are relative to. */
  root: string;
  /** Whether the process runs an app's script (not a launcher from node_modules such as npm or npx, nor a REPL). */
  entryIsApp: boolean;
}

/**
 * The app root by default: the package of the script node runs (the nearest package.json above
 * the real path of `process.argv[1]`), so `cd / && node /srv/app/server.js` records /srv/app's
 * code, not none. The working directory when the script is in no package, when there is no
 * script (REPL, `-e`), and when the script is a launcher inside node_modules (npm, npx, pm2): a
 * launcher's own code is not the app, and the working directory is where it runs the app.
 */
export function findAppRoot(entry: string | null | undefined, cwd: string): AppRoot {
  if (!entry) return { root: cwd, entryIsApp: false };
  let real: string;
  try {
    real = fs.realpathSync(path.resolve(cwd, entry));
  } catch {
    real = path.resolve(cwd, entry);
  }
  if (real.split(path.sep).includes('node_modules')) return { root: cwd, entryIsApp: false };
  let nearest: string | null = null;
  for (let dir = path.dirname(real); ; dir = path.dirname(dir)) {
    const manifest = readManifest(path.join(dir, 'package.json'));
    // A package.json with no name is a build's marker (`dist/cjs/package.json` holding only
    // `{"type": "commonjs"}`), not the app's package: its sources live further up.
    if (manifest === 'named') return { root: dir, entryIsApp: true };
    if (manifest === 'unnamed') nearest ??= dir;
    if (path.dirname(dir) === dir) return { root: nearest ?? cwd, entryIsApp: true };
  }
}

function readManifest(file: string): 'named' | 'unnamed' | null {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return null;
    if (stat.size > 1024 * 1024) return 'unnamed';
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown };
    return typeof data?.name === 'string' && data.name !== '' ? 'named' : 'unnamed';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? null : 'unnamed';
  }
}
