import type { CpuProfile } from '../profile/cpuprofile';
import type { Sampler, SamplerKind } from './sampler';

/** A backend that runs V8 profiles by title; several may run at once on one V8 profiler. */
export interface TitledProfiles {
  start(title: string): void;
  /** Ends the profile and returns it; null when V8 gave nothing back. */
  end(title: string): CpuProfile | null;
  /** Frees the backend; nothing runs any more. */
  release(): void;
}

/**
 * V8's profile clock in microseconds. On Linux V8's TimeTicks and libuv's hrtime both read
 * CLOCK_MONOTONIC, so a profile's sample times and this agree (test/sampler/rotation.test.ts).
 */
function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * A sampler over two titles that take turns. `beginRotation()` starts the next profile while the
 * current one goes on; `rotate()` (some time later) ends the current one and drops from it the
 * samples taken after the next one began, which the next one holds. V8 adds a sample to the
 * profiles running when its profiler thread processes it, and not to a profile that began after
 * the sample was taken: ending the current profile at the very moment the next one begins would
 * lose the samples still queued (one or two per rotation, measured); the overlap keeps them.
 */
export function titledSampler(kind: SamplerKind, profiles: TitledProfiles): Sampler {
  const titles = [`preheat-${process.pid}-a`, `preheat-${process.pid}-b`] as const;
  let current: string | null = null;
  let next: { title: string; since: number } | null = null;

  return {
    kind,
    start() {
      if (current) return;
      current = titles[0];
      profiles.start(current);
    },
    stop() {
      if (!current) return null;
      // A rotation under way: the next profile's samples are all in the current one too.
      if (next) profiles.end(next.title);
      next = null;
      const title = current;
      current = null;
      return profiles.end(title);
    },
    beginRotation() {
      if (!current || next) return;
      const title = current === titles[0] ? titles[1] : titles[0];
      // Read before the start: V8 files a sample of the current stack as a profile starts, in
      // every profile running; from this time on the next profile holds it, and only it. A sample
      // taken during the start call itself (about 50 µs) is in neither: rarely, one is lost.
      const since = nowMicros();
      profiles.start(title);
      next = { title, since };
    },
    rotate() {
      if (!current) return null;
      if (!next) this.beginRotation!();
      const { title, since } = next!;
      const ended = profiles.end(current);
      current = title;
      next = null;
      return ended && samplesBefore(ended, since);
    },
    dispose() {
      try {
        this.stop();
      } finally {
        profiles.release();
      }
    },
  };
}

/**
 * The profile without its samples taken at or after `since` (microseconds, the profile's clock):
 * hit counts follow, and each dropped sample takes one tick off its node's busiest line (the
 * format does not say which line a sample was on). Left whole when `since` is not within the
 * profile's time, which would mean the clocks disagree.
 */
export function samplesBefore(profile: CpuProfile, since: number): CpuProfile {
  const samples = profile.samples;
  const deltas = profile.timeDeltas;
  if (!samples?.length || !deltas || deltas.length !== samples.length) return profile;
  if (since < profile.startTime || since > profile.endTime + 1_000_000) return profile;
  const keptSamples: number[] = [];
  const keptDeltas: number[] = [];
  const dropped = new Map<number, number>();
  let t = profile.startTime;
  let last = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i]!;
    if (t >= since) {
      dropped.set(samples[i]!, (dropped.get(samples[i]!) ?? 0) + 1);
      continue;
    }
    keptSamples.push(samples[i]!);
    keptDeltas.push(t - last);
    last = t;
  }
  if (dropped.size === 0) return profile;
  const nodes = profile.nodes.map((n) => {
    const d = dropped.get(n.id);
    if (!d) return n;
    const node = { ...n, hitCount: Math.max(0, (n.hitCount ?? 0) - d) };
    if (n.positionTicks?.length) {
      const ticks = n.positionTicks.map((p) => ({ ...p }));
      for (let k = 0; k < d; k++) {
        let busiest = 0;
        for (let j = 1; j < ticks.length; j++) if (ticks[j]!.ticks > ticks[busiest]!.ticks) busiest = j;
        if (ticks[busiest]!.ticks > 0) ticks[busiest]!.ticks--;
      }
      const left = ticks.filter((p) => p.ticks > 0);
      if (left.length) node.positionTicks = left;
      else delete node.positionTicks;
    }
    return node;
  });
  return { ...profile, nodes, samples: keptSamples, timeDeltas: keptDeltas, endTime: Math.min(profile.endTime, since) };
}
