import test from 'ava';
import { mergeInstances, mergeRequests, nextGeneration, rank, requestKey } from '../../src/profile/merge';
import { profileOf } from '../helpers/profiles';

test('the first recording becomes generation 1 with shares of busy samples', (t) => {
  const p = nextGeneration(null, profileOf([{ selfSamples: 30, totalSamples: 30 }, { selfSamples: 10, totalSamples: 40 }]), 0.5, 10);
  t.is(p.generation, 1);
  t.deepEqual(
    p.hotFunctions.map((f) => [f.name, f.share, f.totalShare]),
    [
      ['f0', 0.75, 0.75],
      ['f1', 0.25, 1],
    ],
  );
});

test('a new recording is added to the decayed previous generation', (t) => {
  const previous = profileOf([{ selfSamples: 100, totalSamples: 100 }], { generation: 3, createdAt: '2025-01-01T00:00:00.000Z' });
  const current = profileOf([{ selfSamples: 10, totalSamples: 10 }, { line: 50, selfSamples: 40, totalSamples: 40 }]);
  const next = nextGeneration(previous, current, 0.5, 10);
  t.is(next.generation, 4);
  t.is(next.createdAt, '2025-01-01T00:00:00.000Z');
  t.is(next.samples.busy, 100);
  t.deepEqual(
    next.hotFunctions.map((f) => [f.line, f.selfSamples, f.share]),
    [
      [1, 60, 0.6],
      [50, 40, 0.4],
    ],
  );
});

test('repeated identical recordings converge instead of growing without bound', (t) => {
  const run = profileOf([{ selfSamples: 10, totalSamples: 10 }]);
  let p = nextGeneration(null, run, 0.5, 10);
  for (let i = 0; i < 30; i++) p = nextGeneration(p, run, 0.5, 10);
  t.is(p.generation, 31);
  t.true(Math.abs(p.hotFunctions[0]!.selfSamples - 20) < 0.01);
  t.is(p.hotFunctions[0]!.share, 1);
});

test('a function whose source changed starts over', (t) => {
  const previous = profileOf([{ selfSamples: 100, totalSamples: 100, sourceHash: 'sha256:old' }]);
  const current = profileOf([{ selfSamples: 5, totalSamples: 5, sourceHash: 'sha256:new' }]);
  const next = nextGeneration(previous, current, 0.5, 10);
  t.is(next.hotFunctions[0]!.selfSamples, 5);
  t.is(next.hotFunctions[0]!.sourceHash, 'sha256:new');
});

test('functions that stopped being hot decay away', (t) => {
  let p = profileOf([{ selfSamples: 1, totalSamples: 1 }, { line: 9, selfSamples: 1, totalSamples: 1 }]);
  const later = profileOf([{ line: 9, selfSamples: 1, totalSamples: 1 }]);
  for (let i = 0; i < 10; i++) p = nextGeneration(p, later, 0.5, 10);
  t.deepEqual(
    p.hotFunctions.map((f) => f.line),
    [9],
  );
});

test('instances merge by summing, keep the highest generation and the earliest creation', (t) => {
  const a = profileOf([{ selfSamples: 10, totalSamples: 10 }], { generation: 2, createdAt: '2026-01-02T00:00:00.000Z' });
  const b = profileOf([{ selfSamples: 30, totalSamples: 30 }, { line: 7, selfSamples: 60, totalSamples: 60 }], {
    generation: 5,
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  const m = mergeInstances([a, b], 10, new Date('2026-02-01T00:00:00.000Z'));
  t.is(m.generation, 5);
  t.is(m.createdAt, '2026-01-01T00:00:00.000Z');
  t.is(m.updatedAt, '2026-02-01T00:00:00.000Z');
  t.is(m.samples.busy, 100);
  t.deepEqual(
    m.hotFunctions.map((f) => [f.line, f.selfSamples, f.share]),
    [
      [7, 60, 0.6],
      [1, 40, 0.4],
    ],
  );
  t.throws(() => mergeInstances([], 10));
});

test('rank keeps the hottest functions up to the limit', (t) => {
  const p = rank(profileOf([{ selfSamples: 1 }, { selfSamples: 5 }, { selfSamples: 3 }]), 2);
  t.deepEqual(
    p.hotFunctions.map((f) => f.selfSamples),
    [5, 3],
  );
});

test('merged requests keep a count-weighted steady latency and the heaviest status', (t) => {
  const a = { method: 'GET', url: '/x', headers: {}, count: 30, status: 200, latencyMs: 2 };
  const b = { method: 'GET', url: '/x', headers: {}, count: 10, status: 304, latencyMs: 6 };
  const c = { method: 'GET', url: '/y', headers: {}, count: 5 };
  const merged = mergeRequests([{ requests: [a, c], weight: 1 }, { requests: [b], weight: 1 }], 10)!;
  t.deepEqual(merged[0], { method: 'GET', url: '/x', headers: {}, count: 40, status: 200, latencyMs: 3 });
  t.deepEqual(merged[1], { method: 'GET', url: '/y', headers: {}, count: 5 });
});

test('merged requests keep the port of the heaviest list that has one', (t) => {
  const a = { method: 'GET', url: '/x', headers: {}, count: 30, port: 8080 };
  const b = { method: 'GET', url: '/x', headers: {}, count: 10, port: 9090 };
  const c = { method: 'GET', url: '/x', headers: {}, count: 50 };
  const merged = mergeRequests([{ requests: [b], weight: 1 }, { requests: [a], weight: 1 }, { requests: [c], weight: 1 }], 10)!;
  t.deepEqual(merged, [{ method: 'GET', url: '/x', headers: {}, count: 90, port: 8080 }]);
});

test('requests differing only in accept-encoding stay apart; without the header a key is what it was before the header was kept', (t) => {
  const base = { method: 'GET', url: '/a', count: 1 };
  const merged = mergeRequests(
    [
      { requests: [{ ...base, headers: { 'accept-encoding': 'gzip' } }, { ...base, headers: {} }], weight: 1 },
      { requests: [{ ...base, headers: { 'accept-encoding': 'gzip' } }], weight: 1 },
    ],
    10,
  )!;
  t.deepEqual(merged.map((r) => [r.headers['accept-encoding'], r.count]), [['gzip', 2], [undefined, 1]]);
  // Quarantine files hold hashes of these keys: one written before must still match.
  t.is(requestKey({ ...base, headers: { accept: 'x' } }), JSON.stringify(['GET', '/a', '', 'x', null]));
});

test('a deopt mark is weighted like the samples: decayed with its generation, added up across instances, gone once it decays to nothing', (t) => {
  const previous = profileOf([{ selfSamples: 100, totalSamples: 100 }], { generation: 1 });
  previous.hotFunctions[0]!.deopts = 2;
  const current = profileOf([{ selfSamples: 10, totalSamples: 10 }]);
  const next = nextGeneration(previous, current, 0.5, 10);
  t.is(next.hotFunctions[0]!.deopts, 1);
  current.hotFunctions[0]!.deopts = 3;
  t.is(nextGeneration(previous, current, 0.5, 10).hotFunctions[0]!.deopts, 4);
  t.is(mergeInstances([previous, { ...current, generation: 1 }], 10).hotFunctions[0]!.deopts, 5);
  previous.hotFunctions[0]!.deopts = 0.01;
  delete current.hotFunctions[0]!.deopts;
  t.false('deopts' in nextGeneration(previous, current, 0.5, 10).hotFunctions[0]!);
});
