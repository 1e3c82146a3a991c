import * as path from 'node:path';
import { findAppRoot } from '../profile/app-root';
import { defaults, envName, Options } from './options';

/** Turns a raw value (a string from the environment, or anything from an options object) into an option. */
type Parser<T> = (raw: unknown) => T | Invalid;
class Invalid {
  constructor(readonly expected: string) {}
}

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    const s = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
    return values.includes(s as T) ? (s as T) : new Invalid(`one of ${values.join(', ')}`);
  };

const integer =
  (min: number, max: number, unit: string): Parser<number> =>
  (raw) => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : new Invalid(`an integer from ${min} to ${max} (${unit})`);
  };

const fraction: Parser<number> = (raw) => {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : new Invalid('a number from 0 to 1');
};

const ratio =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    return Number.isFinite(n) && n >= min && n <= max ? n : new Invalid(`a number from ${min} to ${max}`);
  };

const globs: Parser<string[]> = (raw) => {
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
  const items = list?.map((g) => String(g).trim()).filter(Boolean);
  return items?.length && items.every((g) => /^\/[^\s?#]*$/.test(g)) ? items : new Invalid('a comma-separated list of path globs starting with /');
};

const methods: Parser<string[]> = (raw) => {
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
  const names = list?.map((m) => String(m).trim().toUpperCase()).filter(Boolean);
  return names?.length && names.every((m) => /^[A-Z]+$/.test(m)) ? [...new Set(names)] : new Invalid('a comma-separated list of HTTP methods');
};

const urlPath: Parser<string | null> = (raw) =>
  typeof raw === 'string' && /^\/[^\s?#]*$/.test(raw.trim()) ? raw.trim() : new Invalid('a path starting with /');

const host: Parser<string> = (raw) =>
  typeof raw === 'string' && /^[A-Za-z0-9.:\[\]-]+$/.test(raw.trim()) ? raw.trim() : new Invalid('a host name or IP address');

const text: Parser<string> = (raw) =>
  typeof raw === 'string' && raw.trim() !== '' && !raw.includes('\0') ? raw.trim() : new Invalid('a non-empty path');

const parsers: { [K in keyof Options]: Parser<Options[K]> } = {
  mode: oneOf('off', 'record', 'warm', 'auto'),
  dir: text,
  profileDir: text,
  root: text,
  sampler: oneOf('auto', 'native', 'inspector'),
  // Below 100 µs the sampler thread itself becomes the workload; above 1 s a window holds too few samples.
  sampleIntervalMicros: integer(100, 1_000_000, 'microseconds'),
  windowMs: integer(100, 24 * 3600_000, 'milliseconds'),
  periodMs: integer(100, 24 * 3600_000, 'milliseconds'),
  maxFunctions: integer(1, 100_000, 'functions'),
  maxCpuprofiles: integer(0, 10_000, 'files'),
  decay: fraction,
  logLevel: oneOf('silent', 'warn', 'info', 'debug'),
  replayMethods: methods,
  maxRequests: integer(0, 100_000, 'requests'),
  capturePerSecond: integer(0, 1_000_000, 'requests a second'),
  maxBodyBytes: integer(0, 1024 * 1024, 'bytes'),
  port: integer(0, 65535, 'a TCP port'),
  host,
  gatePath: urlPath,
  deadlineMs: integer(0, 3600_000, 'milliseconds'),
  startLimitMs: integer(0, 24 * 3600_000, 'milliseconds'),
  onDeadline: oneOf('ready', 'fail'),
  steadyAfterMs: integer(0, 24 * 3600_000, 'milliseconds'),
  readyLatencyRatio: ratio(1, 10),
  replayPaths: globs,
  skipPaths: globs,
  replayConcurrency: integer(1, 256, 'requests'),
  warmTiering: oneOf('default', 'lowered'),
  watchMs: integer(0, 24 * 3600_000, 'milliseconds'),
  replayThread: oneOf('worker', 'main'),
};

const keys = Object.keys(parsers) as (keyof Options)[];
const knownEnv = new Set(keys.map(envName));

export interface Resolved {
  options: Options;
  /** One line per unusable value, already naming the variable and the default used instead. */
  problems: string[];
}

/**
 * The one place configuration is read: `options ?? environment ?? default`, every problem collected
 * before anything is reported, so a user fixing them sees them all at once.
 */
export function resolveOptions(
  input: Partial<Record<keyof Options, unknown>> = {},
  env: NodeJS.ProcessEnv = {},
  cwd: string = process.cwd(),
  /** The script node runs (`process.argv[1]`): its package is the default app root (app-root.ts). */
  entry: string | null = process.argv[1] ?? null,
): Resolved {
  const problems: string[] = [];
  const out = { ...defaults, replayMethods: [...defaults.replayMethods], skipPaths: [...defaults.skipPaths], root: '' } as Options;
  const set = <K extends keyof Options>(key: K, value: Options[K]) => {
    out[key] = value;
  };

  for (const key of keys) {
    const fromOption = input[key] !== undefined;
    const raw = fromOption ? input[key] : env[envName(key)];
    if (raw === undefined || raw === '') continue;
    const value = parsers[key](raw);
    if (value instanceof Invalid) {
      const where = fromOption ? `option ${key}` : envName(key);
      problems.push(`${where}=${describe(raw)} is not ${value.expected}; using ${JSON.stringify(out[key])}`);
    } else {
      set(key, value as Options[typeof key]);
    }
  }

  for (const name of Object.keys(input)) {
    if (!(keys as string[]).includes(name)) problems.push(`unknown option ${JSON.stringify(name)}; ignored`);
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('PREHEAT_') && !knownEnv.has(name)) {
      problems.push(`unknown setting ${name}; ignored${suggest(name)}`);
    }
  }

  if (out.windowMs > out.periodMs) {
    problems.push(
      `the sampling window (${out.windowMs} ms) is longer than its period (${out.periodMs} ms); sampling continuously`,
    );
    out.windowMs = out.periodMs;
  }

  // An explicit root is relative to the working directory, like any path a user types; the
  // directory is relative to the root, so it is the same folder wherever the app is started from.
  out.root = out.root ? path.resolve(cwd, out.root) : findAppRoot(entry, cwd).root;
  out.dir = path.resolve(out.root, out.dir);
  out.profileDir = out.profileDir ? path.resolve(out.root, out.profileDir) : out.dir;
  return { options: out, problems };
}

function describe(raw: unknown): string {
  const s = typeof raw === 'string' ? JSON.stringify(raw) : String(raw);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

function suggest(name: string): string {
  let best = '';
  let bestDistance = 4;
  for (const known of knownEnv) {
    const d = distance(name, known);
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  return best ? ` (did you mean ${best}?)` : '';
}

/** Levenshtein distance, for "did you mean" on misspelt variables. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
