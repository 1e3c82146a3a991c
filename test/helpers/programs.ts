import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Programs outside Node that some tests drive: a fresh machine with only Node and npm has none of
 * them, so their tests are skipped there with the reason in the title. CI installs them and sets
 * PREHEAT_TEST_REQUIRE (a comma or space separated list, or `all`): a required program that is
 * missing is then a failing test, never a silent skip.
 */
export type OutsideProgram = 'chromium' | 'go' | 'perf' | 'nm';

const HOW_TO_GET: Record<OutsideProgram, string> = {
  chromium: 'Debian: apt-get install chromium, or set CHROMIUM_PATH',
  go: 'Debian: apt-get install golang-go',
  perf: 'Debian: apt-get install linux-perf',
  nm: 'Debian: apt-get install binutils',
};

/** Where `name` is found: CHROMIUM_PATH for chromium, else the first match on PATH. */
export function findProgram(name: OutsideProgram, env: NodeJS.ProcessEnv = process.env): string | null {
  if (name === 'chromium' && env.CHROMIUM_PATH) return isExecutable(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null;
  const names = name === 'chromium' ? ['chromium', 'chromium-browser', 'google-chrome'] : [name];
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const candidate of names) {
      const file = path.join(dir, candidate);
      if (isExecutable(file)) return file;
    }
  }
  return null;
}

/** The programs PREHEAT_TEST_REQUIRE names. */
export function requiredPrograms(env: NodeJS.ProcessEnv = process.env): Set<string> {
  const list = (env.PREHEAT_TEST_REQUIRE ?? '').split(/[\s,]+/).filter(Boolean);
  return new Set(list.includes('all') ? Object.keys(HOW_TO_GET) : list);
}

type Impl = (t: ExecutionContext) => unknown;

export interface ProgramCheck {
  name: OutsideProgram;
  path: string | null;
  /** Why the tests cannot run here: empty when the program is there. */
  missing: string;
  /** `test` when the program is there; else skipped with the reason in its title, or failing when required. */
  test(title: string, impl: Impl): void;
  serial(title: string, impl: Impl): void;
}

/** Finds `name` and says what its tests do on this machine. */
export function outsideProgram(name: OutsideProgram, env: NodeJS.ProcessEnv = process.env): ProgramCheck {
  const found = findProgram(name, env);
  const missing = found ? '' : `${name} not found (${HOW_TO_GET[name]})`;
  const required = requiredPrograms(env).has(name);
  const declare = (register: (title: string, impl: Impl) => void) => (title: string, impl: Impl) => {
    if (found) register(title, impl);
    else if (required) register(title, (t) => t.fail(`${missing}, and PREHEAT_TEST_REQUIRE requires it`));
    else test.skip(`${title} [skipped: ${missing}]`, impl);
  };
  return { name, path: found, missing, test: declare((title, impl) => test(title, impl)), serial: declare((title, impl) => test.serial(title, impl)) };
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
