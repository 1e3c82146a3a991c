import test from 'ava';
import type { CpuProfile } from '../../src/profile/cpuprofile';
import { createInspectorSampler } from '../../src/sampler/inspector-sampler';
import { createNativeSampler, loadCpuBinding, toDevTools } from '../../src/sampler/native-sampler';
import type { Sampler } from '../../src/sampler/sampler';
import { samplesBefore } from '../../src/sampler/titled';
import { nativeSamplerBuilt } from '../helpers/run';
import { sampleTimes } from '../helpers/profiles';

const INTERVAL_MICROS = 1000;

function spin(ms: number): number {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x = (x * 31 + 7) % 1_000_003;
  return x;
}

/** A function of its own, so that its frame can be looked for in every rotated profile. */
function rotationWorkload(ms: number): number {
  return spin(ms);
}

function samplers(): [string, () => Sampler][] {
  const out: [string, () => Sampler][] = [['inspector', () => createInspectorSampler(INTERVAL_MICROS)]];
  if (nativeSamplerBuilt) out.push(['native', () => createNativeSampler(INTERVAL_MICROS)]);
  return out;
}

for (const [kind, make] of samplers()) {
  test(`${kind}: rotating goes on sampling with no gap between the profiles`, (t) => {
    const sampler = make();
    try {
      sampler.start();
      // After the first start, which walks the heap (slow with ava loaded).
      const started = Date.now();
      const profiles: CpuProfile[] = [];
      for (let i = 0; i < 4; i++) {
        rotationWorkload(130);
        sampler.beginRotation!();
        rotationWorkload(20);
        const p = sampler.rotate();
        t.truthy(p, `rotation ${i} returned a profile`);
        profiles.push(p!);
      }
      rotationWorkload(150);
      profiles.push(sampler.stop()!);
      const elapsedMicros = (Date.now() - started) * 1000;
      t.is(sampler.stop(), null, 'stopped: nothing more');
      t.is(sampler.rotate(), null, 'a sampler that is not running has nothing to rotate');

      for (const p of profiles) {
        t.true(p.samples!.length > 5, `each profile has its samples (${p.samples!.length})`);
        t.true(
          p.nodes.some((n) => n.callFrame.functionName === 'rotationWorkload'),
          'and the workload in them',
        );
      }
      // No gap: the first sample of each profile follows the last of the one before as consecutive
      // samples inside one profile do. A loaded machine stalls the process now and then (gaps of
      // 200 ms were seen inside profiles), so the boundaries are judged by their median.
      const times = profiles.map((p) => sampleTimes(p)).filter((ts) => ts.length > 0);
      const within = times.flatMap((ts) => ts.slice(1).map((x, i) => x - ts[i]!)).sort((a, b) => a - b);
      const p90 = within[Math.floor(within.length * 0.9)]!;
      const gaps = times.slice(1).map((ts, i) => ts[0]! - times[i]!.at(-1)!).sort((a, b) => a - b);
      t.true(gaps[gaps.length >> 1]! <= Math.max(5 * p90, 5 * INTERVAL_MICROS), `gaps between profiles ${gaps.join(', ')} µs; p90 within ${p90} µs`);
      t.true(gaps[0]! > -5 * INTERVAL_MICROS, `profiles overlap by no more than a few samples (${gaps[0]} µs)`);
      const covered = times.at(-1)!.at(-1)! - times[0]![0]!;
      t.true(covered > elapsedMicros * 0.8, `the profiles span the run (${covered} of ${elapsedMicros} µs)`);
    } finally {
      sampler.dispose();
    }
  });

  test(`${kind}: stop and start again after rotations`, (t) => {
    const sampler = make();
    try {
      sampler.start();
      rotationWorkload(50);
      t.truthy(sampler.rotate());
      rotationWorkload(50);
      t.truthy(sampler.stop());
      sampler.start();
      rotationWorkload(50);
      const p = sampler.stop();
      t.truthy(p);
      t.true(p!.nodes.some((n) => n.callFrame.functionName === 'rotationWorkload'));
    } finally {
      sampler.dispose();
    }
  });
}

if (nativeSamplerBuilt) {
  /**
   * Rotations against a profile running across all of them, on the same addon: V8 adds each
   * sample to every profile running when it files it, so the reference holds every sample taken.
   */
  function againstReference(rotateOnce: (s: Sampler) => CpuProfile | null) {
    const cpu = loadCpuBinding();
    const sampler = createNativeSampler(INTERVAL_MICROS);
    cpu.startProfiling('rotation-reference', true, 0);
    try {
      sampler.start();
      const profiles: CpuProfile[] = [];
      for (let i = 0; i < 6; i++) {
        rotationWorkload(80);
        profiles.push(rotateOnce(sampler)!);
      }
      rotationWorkload(80);
      profiles.push(sampler.stop()!);
      const raw = cpu.stopProfiling('rotation-reference')!;
      const reference = sampleTimes(toDevTools(raw));
      raw.delete();
      const rotated = profiles.flatMap((p) => sampleTimes(p));
      const first = rotated[0]!;
      const last = rotated.at(-1)!;
      const inSpan = reference.filter((x) => x >= first && x <= last);
      const seen = new Set(rotated);
      return { rotations: profiles.length - 1, missing: inSpan.filter((x) => !seen.has(x)).length, duplicated: rotated.length - seen.size, reference: inSpan.length };
    } finally {
      sampler.dispose();
    }
  }

  test('native: a rotation begun ahead loses no sample (but one landing inside the start call) and counts none twice', (t) => {
    const r = againstReference((s) => {
      s.beginRotation!();
      // The recorder waits at least 100 ms: V8's profiler thread may not run at once on a busy machine.
      rotationWorkload(100);
      return s.rotate();
    });
    t.true(r.reference > 30, `${r.reference} samples`);
    // A sample taken during the next profile's start call itself (about 50 µs) is in neither: V8
    // keeps it out of the profile that had not started, and it is after the time the current one is
    // cut at. Seen once in about 30 runs of this test at 1 kHz; at the default 25 Hz, about one
    // rotation in 800. Two are allowed: with six rotations two such samples in one run are rare but
    // not negligible over four Node versions, and a rotation at once loses one or two per rotation.
    t.true(r.missing <= 2, JSON.stringify(r));
    t.is(r.duplicated, 0, JSON.stringify(r));
  });

  test('native: a rotation at once (a signal) loses at most the few samples V8 still had queued', (t) => {
    const r = againstReference((s) => s.rotate());
    t.true(r.missing <= 3 * r.rotations, JSON.stringify(r));
    t.true(r.duplicated <= r.rotations, JSON.stringify(r));
  });
}

test('samplesBefore drops the samples from a time on, with their hit counts and line ticks', (t) => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, hitCount: 0, children: [2, 3] },
      { id: 2, callFrame: { functionName: 'a', scriptId: '1', url: 'file:///a.js', lineNumber: 0, columnNumber: 0 }, hitCount: 3, positionTicks: [{ line: 1, ticks: 1 }, { line: 2, ticks: 2 }] },
      { id: 3, callFrame: { functionName: 'b', scriptId: '1', url: 'file:///a.js', lineNumber: 5, columnNumber: 0 }, hitCount: 1, positionTicks: [{ line: 6, ticks: 1 }] },
    ],
    startTime: 1000,
    endTime: 1600,
    samples: [2, 2, 3, 2],
    timeDeltas: [100, 100, 100, 100],
  };
  const cut = samplesBefore(profile, 1250);
  t.deepEqual(cut.samples, [2, 2]);
  t.deepEqual(cut.timeDeltas, [100, 100]);
  t.is(cut.endTime, 1250);
  t.is(cut.nodes[1]!.hitCount, 2);
  t.deepEqual(cut.nodes[1]!.positionTicks, [{ line: 1, ticks: 1 }, { line: 2, ticks: 1 }]);
  t.is(cut.nodes[2]!.hitCount, 0);
  t.is(cut.nodes[2]!.positionTicks, undefined);
  t.is(profile.samples!.length, 4, 'the input is left as it was');
  t.is(samplesBefore(profile, 99_999_999), profile, 'a time outside the profile (clocks that disagree) changes nothing');
});

test("inspector: the app's own console profiles neither end ours nor reach the recording", (t) => {
  const sampler = createInspectorSampler(INTERVAL_MICROS);
  try {
    sampler.start();
    // eslint-disable-next-line no-console
    console.profile('the app');
    rotationWorkload(50);
    // eslint-disable-next-line no-console
    console.profileEnd('the app');
    rotationWorkload(50);
    const p = sampler.rotate();
    t.truthy(p);
    t.true(p!.samples!.length > 5);
    t.truthy(sampler.stop());
  } finally {
    sampler.dispose();
  }
});
