import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Options } from '../config/options';
import type { Check } from './checks';
import type { NodeFacts } from './node-facts';

/** The Node majors the project's test matrix runs on (README, "Supported"). */
const TESTED_MAJORS = [20, 22, 24, 26];

/** Node and V8, and which warm-up features this binary gives the agent. */
export function nodeCheck(facts: NodeFacts): Check {
  const major = Number(facts.node.split('.')[0]);
  const features = [
    facts.natives === null ? 'forced optimization' : null,
    facts.tierFlags.length ? 'lowered tiering (PREHEAT_WARM_TIERING)' : null,
    facts.compileCache ? 'compile cache' : null,
    facts.http2Capture ? 'http2 recording' : null,
  ].filter(Boolean);
  const missing = [
    facts.natives !== null ? `forced optimization (${facts.natives}): the warm-up only replays` : null,
    !facts.tierFlags.length ? 'lowered tiering (this V8\'s flags are not known)' : null,
    !facts.compileCache ? 'compile cache (Node 22.1 and later)' : null,
    !facts.http2Capture ? 'http2 recording (Node 22 and later)' : null,
  ].filter(Boolean);
  const tested = TESTED_MAJORS.includes(major);
  return {
    name: 'node',
    status: !tested || facts.natives !== null ? 'warn' : 'ok',
    summary:
      `Node ${facts.node}, V8 ${facts.v8}${tested ? '' : ` (untested: preheat is tested on Node ${TESTED_MAJORS.join(', ')})`}; ` +
      `warm-up with ${features.join(', ') || 'replay only'}${missing.length ? `; without ${missing.join(', ')}` : ''}`,
    facts: { ...facts },
  };
}

/** Which sampler records, and what to do when the native one is not there. */
export function samplerCheck(facts: NodeFacts, options: Options): Check {
  if (options.sampler === 'inspector') return { name: 'sampler', status: 'ok', summary: 'node:inspector sampler (PREHEAT_SAMPLER=inspector)' };
  if (facts.nativeSampler === null) return { name: 'sampler', status: 'ok', summary: 'native sampler (v8-profiler-next) loads' };
  const status = options.sampler === 'native' ? 'fail' : 'warn';
  const fallback = options.sampler === 'native' ? 'PREHEAT_SAMPLER=native cannot start it' : 'the node:inspector sampler records instead, at a higher cost per sample';
  if (!facts.nativeSamplerPackage) {
    return { name: 'sampler', status, summary: `v8-profiler-next is not installed (an optional dependency): ${fallback}`, facts: { error: facts.nativeSampler } };
  }
  const pkgDir = path.dirname(facts.nativeSamplerPackage);
  const built = fs.existsSync(path.join(pkgDir, 'build')) && findBinaries(path.join(pkgDir, 'build'));
  const why = !built
    ? `its addon was never built (npm 11 skips install scripts): add "allowScripts": { "v8-profiler-next": true } to the app's package.json, then run \`npm rebuild v8-profiler-next\``
    : `no build for this Node's ABI (modules ${facts.modules}; built: ${built.join(', ')}): run \`npm rebuild v8-profiler-next\` with this Node`;
  return { name: 'sampler', status, summary: `${why}; until then ${fallback}`, facts: { error: facts.nativeSampler, package: pkgDir } };
}

function findBinaries(dir: string): string[] | false {
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 5) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name), depth + 1);
      else if (e.name.endsWith('.node')) found.push(path.relative(dir, path.join(d, e.name)));
    }
  };
  try {
    walk(dir, 0);
  } catch {
    return false;
  }
  return found.length ? found : false;
}

/** Where the compile cache goes, if this Node has one. */
export function compileCacheCheck(facts: NodeFacts, options: Options, env: NodeJS.ProcessEnv): Check {
  if (!facts.compileCache) return { name: 'compile-cache', status: 'ok', summary: `not available on Node ${facts.node} (Node 22.1 and later): modules are compiled at each boot` };
  if (env.NODE_COMPILE_CACHE) return { name: 'compile-cache', status: 'ok', summary: `the app's own (NODE_COMPILE_CACHE=${env.NODE_COMPILE_CACHE}); preheat leaves it alone` };
  return { name: 'compile-cache', status: 'ok', summary: `kept in ${path.join(options.dir, 'compile-cache')}` };
}
