import type { HotFunction } from '../profile/schema';

/** The hot set: functions worth a forced optimization (most self time first). */
const MAX_HOT = 200;
/** Below this share of self time a function is not worth compiling ahead. */
const MIN_SHARE = 0.002;

/** The recorded hot functions the warm-up forces: the app's and its dependencies', not Node's own. */
export function hotSet(functions: HotFunction[]): HotFunction[] {
  return functions
    .filter((f) => f.share >= MIN_SHARE && !f.file.startsWith('node:') && !isModuleTopLevel(f))
    .slice(0, MAX_HOT);
}

/**
 * A module's top-level code (unnamed, at 1:1) ran once, while the module loaded: it never runs
 * again, so optimizing it is wasted, and counting it kept a "not optimizable" in every status.
 */
function isModuleTopLevel(f: HotFunction): boolean {
  return f.name === '' && f.line === 1 && f.column === 1;
}
