import * as v8 from 'node:v8';

/**
 * V8's tier-up thresholds, lowered while the warm-up replays and restored once it ends, so the
 * code the replay runs (a framework's, a dependency's, Node's own http code: none of it in the hot
 * set) reaches the optimizing tiers in fewer calls. Measured facts (docs/warmup-research.md):
 *  - the flags are read at every tier-up decision, so a change made at run time reaches functions
 *    compiled before it, on V8 11.3, 12.4, 13.6 and 14.6;
 *  - their names differ: V8 11.3 (Node 20) has one `--interrupt-budget` (bytecode executed before
 *    TurboFan); 12.4 and later (Node 22, 24, 26) count invocations per tier, and reject
 *    `--interrupt-budget`.
 * The defaults restored are each version's own (`node --v8-options`); a flag the app set itself on
 * the command line or in NODE_OPTIONS is neither lowered nor restored.
 */
export interface TierFlag {
  name: string;
  /** V8's default, restored when the warm-up ends. */
  standard: number;
  /** Used while the warm-up replays. */
  lowered: number;
}

/** Lower thresholds by this factor: a tenth of the calls still gives each function some feedback. */
const FACTOR = 10;

/** The tiering flags of the running V8, or [] for a version whose flags are not known. */
export function tierFlagsFor(v8Version: string): TierFlag[] {
  const [major = 0, minor = 0] = v8Version.split('.').map(Number);
  const flag = (name: string, standard: number): TierFlag => ({ name, standard, lowered: Math.max(1, Math.round(standard / FACTOR)) });
  if (major === 11 && minor === 3) return [flag('interrupt-budget', 67584), flag('minimum-invocations-after-ic-update', 500)];
  if (major > 12 || (major === 12 && minor >= 4)) {
    return [flag('invocation-count-for-turbofan', 3000), flag('invocation-count-for-maglev', 400), flag('minimum-invocations-after-ic-update', 500)];
  }
  return [];
}

export interface LoweredTiering {
  /** The flags lowered, as set (`--name=value`); empty when nothing was changed. */
  readonly lowered: string[];
  /** Puts V8's defaults back. Idempotent. */
  restore(): void;
}

/**
 * Lowers the running V8's tier-up thresholds; `restore()` undoes it. `appFlags` is what the app
 * was started with (execArgv and NODE_OPTIONS): flags it set are left to it.
 */
export function lowerTiering(
  appFlags: string = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' '),
  v8Version: string = process.versions.v8,
  set: (flags: string) => void = (f) => v8.setFlagsFromString(f),
): LoweredTiering {
  const own = tierFlagsFor(v8Version).filter((f) => !new RegExp(`--${f.name.replace(/-/g, '[-_]')}\\b`).test(appFlags));
  const lowered: string[] = [];
  for (const f of own) {
    set(`--${f.name}=${f.lowered}`);
    lowered.push(`--${f.name}=${f.lowered}`);
  }
  let restored = false;
  return {
    lowered,
    restore() {
      if (restored) return;
      restored = true;
      for (const f of own) set(`--${f.name}=${f.standard}`);
    },
  };
}
