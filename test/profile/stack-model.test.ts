import test from 'ava';
import { fromCpuProfile, mergeInto } from '../../src/profile/stack-model';
import { cpuProfileOf } from '../helpers/profiles';

test('a DevTools profile becomes a tree with 1-based positions, kinds and per-line ticks', (t) => {
  const model = fromCpuProfile(
    cpuProfileOf([
      { name: 'main', line: 0, children: [{ name: 'hot', line: 9, self: 5, ticks: [[11, 3], [12, 1], [11, 1]] }] },
      { name: '(garbage collector)', url: '', self: 2 },
      { name: '(idle)', url: '', self: 4 },
    ]),
  );
  t.is(model.totalSamples, 11);
  const hot = model.nodes.find((n) => model.frames[n.frame]!.name === 'hot')!;
  t.is(hot.self, 5);
  // Node 26 repeats a line within one node: the ticks add up.
  t.deepEqual(hot.lines, { 11: 4, 12: 1 });
  t.is(model.frames[hot.frame]!.line, 10);
  t.is(model.frames[hot.frame]!.column, 5);
  t.is(model.frames[model.nodes[hot.parent]!.frame]!.name, 'main');
  t.deepEqual(Object.fromEntries(model.frames.map((f) => [f.name, f.kind])), {
    '(root)': 'root',
    main: 'js',
    hot: 'js',
    '(garbage collector)': 'gc',
    '(idle)': 'idle',
  });
});

test('equal call paths share one node and hitCount is used when samples are absent', (t) => {
  const profile = cpuProfileOf([
    { name: 'a', children: [{ name: 'b', self: 2 }] },
    { name: 'a', children: [{ name: 'b', self: 3 }] },
  ]);
  delete profile.samples;
  const model = fromCpuProfile(profile);
  t.is(model.nodes.length, 3);
  t.is(model.nodes[2]!.self, 5);
});

test('a 20000-deep stack converts without overflowing the call stack', (t) => {
  const profile = cpuProfileOf([]);
  for (let i = 0; i < 20001; i++) {
    const id = profile.nodes.length + 1;
    profile.nodes.at(-1)!.children = [id];
    profile.nodes.push({ id, callFrame: { functionName: `f${i % 7}`, scriptId: '1', url: 'file:///a.js', lineNumber: i, columnNumber: 0 }, children: [] });
  }
  profile.samples = [profile.nodes.length];
  const model = fromCpuProfile(profile);
  t.is(model.nodes.length, 20002);
  t.is(model.totalSamples, 1);
});

test('dangling and repeated child ids in a foreign file are skipped', (t) => {
  const profile = cpuProfileOf([{ name: 'a', self: 1 }]);
  profile.nodes[1]!.children = [99, 1];
  const model = fromCpuProfile(profile);
  t.is(model.totalSamples, 1);
});

test('merging models adds counts on shared paths and keeps the rest', (t) => {
  const a = fromCpuProfile(cpuProfileOf([{ name: 'x', children: [{ name: 'y', self: 2, ticks: [[3, 2]] }] }]));
  const b = fromCpuProfile(cpuProfileOf([{ name: 'x', children: [{ name: 'y', self: 1, ticks: [[3, 1]] }, { name: 'z', self: 4 }] }]));
  const m = mergeInto(a, b);
  t.is(m.totalSamples, 7);
  const y = m.nodes.find((n) => m.frames[n.frame]!.name === 'y')!;
  t.is(y.self, 3);
  t.deepEqual(y.lines, { 3: 3 });
  t.truthy(m.nodes.find((n) => m.frames[n.frame]!.name === 'z'));
});
