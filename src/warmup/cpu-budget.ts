import * as fs from 'node:fs';
import * as os from 'node:os';

/**
 * The CPUs this process may really use: the smallest of the CPUs it may run on (affinity,
 * `os.availableParallelism`) and its cgroup's CPU quota. In a container limited to 1.5 CPUs on a
 * 64-core host, Node sees 64; replaying 64 requests at once would only queue them behind each
 * other and measure the queue. Reads cgroup v2 (`cpu.max`) and v1 (`cpu.cfs_quota_us` /
 * `cpu.cfs_period_us`); where neither is readable, the affinity count stands.
 */
export function availableCpus(read: (file: string) => string | null = readSmall): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length || 1;
  const quota = cgroupQuota(read);
  return Math.max(1, quota === null ? cores : Math.min(cores, quota));
}

/** The cgroup's CPU quota in CPUs (1.5 for "150000 100000"), or null when there is none. */
export function cgroupQuota(read: (file: string) => string | null = readSmall): number | null {
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== null) {
    const [max, period] = v2.trim().split(/\s+/);
    if (max === 'max') return null;
    const q = Number(max) / Number(period);
    return Number.isFinite(q) && q > 0 ? q : null;
  }
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? quota / period : null;
}

/**
 * Replayed requests in flight: one per CPU the process may use, rounded up, from 2 (one request
 * waits on the network while the other runs) to 8 (beyond that the replay measures its own queue).
 */
export function defaultReplayConcurrency(cpus = availableCpus()): number {
  return Math.min(8, Math.max(2, Math.ceil(cpus)));
}

function readSmall(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').slice(0, 256);
  } catch {
    return null;
  }
}
