import test from 'ava';
import * as os from 'node:os';
import { availableCpus, cgroupQuota, defaultReplayConcurrency } from '../../src/warmup/cpu-budget';

const files = (map: Record<string, string>) => (file: string) => map[file] ?? null;

test("the cgroup's CPU quota is read from cgroup v2, else v1; no quota is null", (t) => {
  t.is(cgroupQuota(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' })), 1.5);
  t.is(cgroupQuota(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' })), null);
  t.is(cgroupQuota(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '50000\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' })), 0.5);
  t.is(cgroupQuota(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' })), null);
  t.is(cgroupQuota(files({})), null);
  t.is(cgroupQuota(files({ '/sys/fs/cgroup/cpu.max': 'garbage' })), null);
});

test('a quota below the cores wins; replay concurrency follows it, from 2 to 8', (t) => {
  const cores = os.availableParallelism();
  t.is(availableCpus(files({ '/sys/fs/cgroup/cpu.max': '100000 100000' })), Math.min(1, cores));
  t.is(availableCpus(files({})), cores);
  t.is(defaultReplayConcurrency(0.5), 2);
  t.is(defaultReplayConcurrency(3.2), 4);
  t.is(defaultReplayConcurrency(64), 8);
});
