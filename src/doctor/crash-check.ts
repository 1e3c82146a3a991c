import type { Options } from '../config/options';
import { crashedWarmups } from '../warmup/crash-marker';
import { readQuarantine } from '../warmup/quarantine';
import type { Check } from './checks';

/** At most this many request labels in the line; the facts hold them all. */
const NAMED = 3;

/**
 * What earlier warm-ups from the recording directory left behind: the markers of warm-ups whose
 * process died (the next boot starts cold) and the quarantined requests that no warm-up replays
 * (docs/readiness.md, "The crash marker"). Both are kept in PREHEAT_DIR, where boots write.
 */
export function crashCheck(options: Options, now = Date.now()): Check {
  const dir = options.dir;
  const crashed = crashedWarmups(dir, now);
  const quarantine = readQuarantine(dir);
  const facts = {
    dir,
    crashedWarmups: crashed.map((c) => ({ host: c.host, pid: c.pid, startedAt: new Date(c.startedAt).toISOString(), suspects: c.suspects ?? [] })),
    quarantine: { file: quarantine.file, problem: quarantine.problem, entries: quarantine.entries },
  };
  const parts: string[] = [];
  if (crashed.length) {
    const last = crashed[crashed.length - 1]!;
    parts.push(`${crashed.length} warm-up${crashed.length > 1 ? 's' : ''} from ${dir} died before ending (the last on ${last.host}, pid ${last.pid}, ${new Date(last.startedAt).toISOString()}): the next boot starts cold and quarantines what was in flight`);
  }
  if (quarantine.problem) parts.push(`${quarantine.file} is not usable (${quarantine.problem}): it is ignored and never written over; remove it`);
  else if (quarantine.entries.length) {
    const labels = quarantine.entries.map((e) => e.request ?? e.key);
    const named = labels.slice(0, NAMED).join(', ') + (labels.length > NAMED ? `, and ${labels.length - NAMED} more` : '');
    parts.push(`${quarantine.entries.length} request${quarantine.entries.length > 1 ? 's are' : ' is'} quarantined (${named}): a warm-up that replayed ${quarantine.entries.length > 1 ? 'them' : 'it'} killed its process, so no warm-up replays ${quarantine.entries.length > 1 ? 'them' : 'it'}; remove ${quarantine.file} once fixed`);
  }
  if (!parts.length) return { name: 'crashes', status: 'ok', summary: `no warm-up from ${dir} died, nothing quarantined`, facts };
  return { name: 'crashes', status: 'warn', summary: parts.join('; '), facts };
}
