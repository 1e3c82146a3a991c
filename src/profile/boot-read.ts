import type { Options } from '../config/options';
import { Codes } from '../errors';
import type { Logger } from '../log';
import { mergedProfile, readProfileDir, type DirSnapshot } from './profile-dir';
import type { WarmupProfile } from './schema';

/** The one read of the profile directory (PREHEAT_PROFILE_DIR, else PREHEAT_DIR) in a process's life: warm-up and the recorder both take it from here. */
export interface BootRead {
  snapshot: DirSnapshot;
  /** What the directory holds, merged (warm mode warms from it); null when nothing in it is usable. */
  profile: WarmupProfile | null;
}

const reads = new WeakMap<Options, BootRead>();

/**
 * The agent's read of the profile directory, made once per agent (its resolved options) however many parts
 * ask: warm-up and the recorder get the same result, and a bad file is warned about once.
 */
export function storedProfiles(options: Options, log: Logger): BootRead {
  let read = reads.get(options);
  if (!read) {
    read = readAtBoot(options, log);
    reads.set(options, read);
  }
  return read;
}

/**
 * Reads the profile directory and says in one `preheat:` line what in it cannot be used. Nothing is
 * moved or deleted: an unusable file stays as it was (docs/profile-files.md says why).
 */
export function readAtBoot(options: Options, log: Logger): BootRead {
  const snapshot = readProfileDir(options.profileDir);
  const [first, ...more] = snapshot.skipped;
  if (first) {
    const others = more.length ? `; ${more.length} more unusable profile file${more.length > 1 ? 's' : ''} in ${options.profileDir}` : '';
    const why = first.otherVersion ? 'left as it is for the preheat that reads it' : 'left as it is';
    log.warn(Codes.badProfile, `${first.file} cannot be used: ${first.reason}; ${why}${others}`);
  }
  const profile = mergedProfile(snapshot, options);
  if (profile) {
    const files = snapshot.instances.length + (snapshot.main.kind === 'ok' && snapshot.main.role === 'base' ? 1 : 0);
    const hottest = profile.hotFunctions.slice(0, 10).map((f) => f.name || '(anonymous)');
    log.debug(`profile from ${files} file${files === 1 ? '' : 's'} in ${options.profileDir}: generation ${profile.generation}, ${profile.hotFunctions.length} hot functions (${hottest.join(', ')})`);
  }
  return { snapshot, profile };
}
