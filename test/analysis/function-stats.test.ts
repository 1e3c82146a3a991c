import test from 'ava';
import { functionStats } from '../../src/analysis/function-stats';
import { fromCpuProfile } from '../../src/profile/stack-model';
import { cpuProfileOf } from '../helpers/profiles';

const statsByName = (roots: Parameters<typeof cpuProfileOf>[0]) => {
  const model = fromCpuProfile(cpuProfileOf(roots));
  const { stats, totals } = functionStats(model);
  const byName = Object.fromEntries([...stats.values()].map((s) => [model.frames[s.frame]!.name, s]));
  return { byName, totals };
};

test('self counts the top of the stack, total every sample the function is on', (t) => {
  const { byName, totals } = statsByName([
    { name: 'handler', self: 1, children: [{ name: 'parse', self: 4 }, { name: 'render', self: 5, ticks: [[7, 5]] }] },
    { name: '(idle)', url: '', self: 10 },
    { name: '(garbage collector)', url: '', self: 2 },
  ]);
  t.is(byName.handler!.self, 1);
  t.is(byName.handler!.total, 10);
  t.is(byName.render!.total, 5);
  t.deepEqual(byName.render!.lines, { 7: 5 });
  t.deepEqual(totals, { all: 22, busy: 12, gc: 2, program: 0, native: 0 });
});

test('a recursive function counts each sample once in its total', (t) => {
  const { byName } = statsByName([
    { name: 'fib', line: 1, self: 1, children: [{ name: 'fib', line: 1, self: 2, children: [{ name: 'fib', line: 1, self: 3 }] }] },
  ]);
  t.is(byName.fib!.self, 6);
  t.is(byName.fib!.total, 6);
});
