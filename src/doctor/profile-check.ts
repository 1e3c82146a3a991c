import * as fs from 'node:fs';
import type { Options } from '../config/options';
import { fromAppFile } from '../profile/app-path';
import { mergedProfile, readProfileDir } from '../profile/profile-dir';
import type { WarmupProfile } from '../profile/schema';
import { indexSource } from '../profile/source-hash';
import type { Check } from './checks';

/** A profile older than this is worth a warning: the traffic and the code it describes have moved on. */
const OLD_DAYS = 14;
/** Above this share of the app's hot functions changed since recording, the warm-up misses much of its target. */
const STALE_SHARE = 0.25;

/** What the boot would warm from: the profile directory read as the agent reads it, and how it fits the sources now. */
export function profileCheck(options: Options, now = Date.now()): Check {
  const dir = options.profileDir;
  const snapshot = readProfileDir(dir);
  const profile = mergedProfile(snapshot, options);
  const bad = snapshot.skipped[0];
  const badNote = bad ? `; ${snapshot.skipped.length} unusable file${snapshot.skipped.length > 1 ? 's' : ''} (${bad.file}: ${bad.reason})` : '';
  if (!profile) {
    const summary =
      options.mode === 'record'
        ? `no profile in ${dir} yet; record mode writes one${badNote}`
        : `no usable profile in ${dir}${badNote}: the boot starts cold${options.mode === 'auto' ? ' and records one' : ''}`;
    return { name: 'profile', status: options.mode === 'record' && !bad ? 'ok' : 'warn', summary, facts: { dir, skipped: snapshot.skipped } };
  }
  const fit = sourceFit(profile, options.root);
  const ageDays = (now - Date.parse(profile.updatedAt)) / 86_400_000;
  const requests = profile.requests ?? [];
  const latencies = requests.filter((r) => typeof r.latencyMs === 'number').length;
  const facts = {
    dir,
    generation: profile.generation,
    updatedAt: profile.updatedAt,
    ageDays: Math.round(ageDays * 10) / 10,
    recordedOn: { node: profile.node, v8: profile.v8, preheat: profile.preheatVersion },
    hotFunctions: profile.hotFunctions.length,
    requests: requests.length,
    requestsWithLatency: latencies,
    checked: fit.checked,
    stale: fit.stale,
    gone: fit.gone,
    skipped: snapshot.skipped,
  };
  const what = `generation ${profile.generation}, ${describeAge(ageDays)}, ${profile.hotFunctions.length} hot functions, ${requests.length} requests (${latencies} with a steady latency)`;
  const problems: string[] = [];
  let warn = Boolean(bad);
  const changed = fit.stale + fit.gone;
  if (changed > 0) {
    const many = changed / fit.checked > STALE_SHARE;
    warn ||= many;
    problems.push(`${changed} of the app's ${fit.checked} hot functions changed or are gone since recording (${fit.examples.join(', ')})${many ? ': record again' : ''}`);
  }
  if (ageDays > OLD_DAYS) {
    warn = true;
    problems.push(`older than ${OLD_DAYS} days`);
  }
  if (requests.length === 0) {
    warn = true;
    problems.push('no recorded requests: the warm-up has nothing to replay');
  }
  return { name: 'profile', status: warn ? 'warn' : 'ok', summary: `${dir}: ${what}${problems.length ? '; ' + problems.join('; ') : ''}${badNote}`, facts };
}

/**
 * How many of the app's own hot functions the warm-up would find as recorded: a function whose
 * source hash is still somewhere in its file is found (edits elsewhere only moved it), as the
 * agent's function index does; one whose file is gone or whose text changed is stale.
 */
function sourceFit(profile: WarmupProfile, root: string): { checked: number; stale: number; gone: number; examples: string[] } {
  const files = new Map<string, Set<string> | null>();
  const hashesIn = (file: string): Set<string> | null => {
    if (!files.has(file)) {
      const abs = fromAppFile(file, root);
      let hashes: Set<string> | null = null;
      try {
        const index = abs === null ? null : indexSource(fs.readFileSync(abs, 'utf8'));
        hashes = index ? new Set(index.hashes.values()) : null;
      } catch {
        // Gone or unreadable: its functions cannot be warmed.
      }
      files.set(file, hashes);
    }
    return files.get(file)!;
  };
  let checked = 0;
  let stale = 0;
  let gone = 0;
  const examples: string[] = [];
  for (const f of profile.hotFunctions) {
    if (!f.sourceHash) continue; // dependencies and unreadable sources carry no hash
    checked++;
    const hashes = hashesIn(f.file);
    if (hashes?.has(f.sourceHash)) continue;
    if (hashes === null) gone++;
    else stale++;
    if (examples.length < 3) examples.push(`${f.name || '(anonymous)'} ${f.file}:${f.line}`);
  }
  return { checked, stale, gone, examples };
}

function describeAge(days: number): string {
  if (!Number.isFinite(days)) return 'of unknown age';
  if (days < 1 / 24) return `recorded ${Math.max(0, Math.round(days * 1440))} min ago`;
  if (days < 2) return `recorded ${Math.round(days * 24)} h ago`;
  return `recorded ${Math.round(days)} days ago`;
}
