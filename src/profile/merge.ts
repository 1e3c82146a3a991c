import type { HotFunction, RecordedRequest, SampleTotals, WarmupProfile } from './schema';

/** Two recorded requests are the same when everything replayed would be the same. */
export function requestKey(r: Pick<RecordedRequest, 'method' | 'url' | 'headers' | 'body'>): string {
  return JSON.stringify([r.method, r.url, r.headers['content-type'] ?? '', r.headers.accept ?? '', r.body ?? null]);
}

/** Weighted sum of request lists by key, most frequent first, at most `max`. */
export function mergeRequests(lists: { requests: RecordedRequest[] | undefined; weight: number }[], max: number): RecordedRequest[] | undefined {
  if (lists.every((l) => l.requests === undefined)) return undefined;
  const byKey = new Map<string, RecordedRequest>();
  for (const { requests, weight } of lists) {
    for (const r of requests ?? []) {
      const key = requestKey(r);
      const old = byKey.get(key);
      byKey.set(key, { ...r, count: (old?.count ?? 0) + r.count * weight });
    }
  }
  return [...byKey.values()]
    .filter((r) => r.count >= 0.01)
    .map((r) => ({ ...r, count: Math.round(r.count * 1e4) / 1e4 }))
    .sort((a, b) => b.count - a.count || requestKey(a).localeCompare(requestKey(b)))
    .slice(0, max);
}

/** A function is the code at one position of one file; its name is only a label. */
export function functionKey(f: Pick<HotFunction, 'file' | 'line' | 'column'>): string {
  return `${f.file}:${f.line}:${f.column}`;
}

/**
 * The next generation: the previous profile's counts weighted by `decay`, plus this recording's.
 * Repeated recordings so converge on what is hot now instead of the last run overwriting the rest.
 * A function whose source hash changed starts over: its old counts describe other code.
 */
export function nextGeneration(
  previous: WarmupProfile | null,
  current: WarmupProfile,
  decay: number,
  maxFunctions: number,
  maxRequests = Infinity,
): WarmupProfile {
  if (!previous) return withRequests(rank({ ...current, generation: 1 }, maxFunctions), mergeRequests([{ requests: current.requests, weight: 1 }], maxRequests));
  const byKey = new Map<string, HotFunction>();
  for (const f of previous.hotFunctions) {
    byKey.set(functionKey(f), { ...f, selfSamples: f.selfSamples * decay, totalSamples: f.totalSamples * decay });
  }
  for (const f of current.hotFunctions) {
    const key = functionKey(f);
    const old = byKey.get(key);
    if (old && (old.sourceHash === f.sourceHash || old.sourceHash === null || f.sourceHash === null)) {
      byKey.set(key, { ...f, selfSamples: old.selfSamples + f.selfSamples, totalSamples: old.totalSamples + f.totalSamples });
    } else {
      byKey.set(key, { ...f });
    }
  }
  const ranked = rank(
    {
      ...current,
      generation: previous.generation + 1,
      createdAt: previous.createdAt,
      samples: addTotals(scaleTotals(previous.samples, decay), current.samples),
      hotFunctions: [...byKey.values()],
    },
    maxFunctions,
  );
  return withRequests(
    ranked,
    mergeRequests(
      [
        { requests: previous.requests, weight: decay },
        { requests: current.requests, weight: 1 },
      ],
      maxRequests,
    ),
  );
}

function withRequests(profile: WarmupProfile, requests: RecordedRequest[] | undefined): WarmupProfile {
  const { requests: _dropped, ...rest } = profile;
  return requests === undefined ? rest : { ...rest, requests };
}

/** One fleet profile from several instances' profiles: counts add up, nothing decays. */
export function mergeInstances(profiles: WarmupProfile[], maxFunctions: number, now = new Date(), maxRequests = Infinity): WarmupProfile {
  if (profiles.length === 0) throw new Error('nothing to merge');
  const byKey = new Map<string, HotFunction>();
  let samples: SampleTotals = { busy: 0, gc: 0, program: 0, native: 0 };
  for (const p of profiles) {
    samples = addTotals(samples, p.samples);
    for (const f of p.hotFunctions) {
      const key = functionKey(f);
      const old = byKey.get(key);
      byKey.set(
        key,
        old ? { ...old, selfSamples: old.selfSamples + f.selfSamples, totalSamples: old.totalSamples + f.totalSamples } : { ...f },
      );
    }
  }
  const newest = profiles.reduce((a, b) => (a.updatedAt >= b.updatedAt ? a : b));
  const requests = mergeRequests(profiles.map((p) => ({ requests: p.requests, weight: 1 })), maxRequests);
  const ranked = rank(
    {
      ...newest,
      generation: Math.max(...profiles.map((p) => p.generation)),
      createdAt: profiles.map((p) => p.createdAt).reduce((a, b) => (a <= b ? a : b)),
      updatedAt: now.toISOString(),
      samples,
      hotFunctions: [...byKey.values()],
    },
    maxFunctions,
  );
  return withRequests(ranked, requests);
}

/** Recomputes shares against the profile's busy samples, sorts hottest first and keeps the top `maxFunctions`. */
export function rank(profile: WarmupProfile, maxFunctions: number): WarmupProfile {
  const busy = profile.samples.busy;
  const share = (n: number) => (busy > 0 ? round(n / busy) : 0);
  const hotFunctions = profile.hotFunctions
    // Decay leaves long tails of tiny counts; below a hundredth of a sample they carry no signal.
    .filter((f) => f.selfSamples >= 0.01 || f.totalSamples >= 0.01)
    .map((f) => ({
      ...f,
      selfSamples: round(f.selfSamples),
      totalSamples: round(f.totalSamples),
      share: share(f.selfSamples),
      totalShare: share(f.totalSamples),
    }))
    .sort((a, b) => b.selfSamples - a.selfSamples || b.totalSamples - a.totalSamples || functionKey(a).localeCompare(functionKey(b)))
    .slice(0, maxFunctions);
  return { ...profile, samples: mapTotals(profile.samples, round), hotFunctions };
}

function round(n: number): number {
  return Math.round(n * 1e4) / 1e4;
}

function addTotals(a: SampleTotals, b: SampleTotals): SampleTotals {
  return { busy: a.busy + b.busy, gc: a.gc + b.gc, program: a.program + b.program, native: a.native + b.native };
}

function scaleTotals(a: SampleTotals, k: number): SampleTotals {
  return mapTotals(a, (n) => n * k);
}

function mapTotals(a: SampleTotals, f: (n: number) => number): SampleTotals {
  return { busy: f(a.busy), gc: f(a.gc), program: f(a.program), native: f(a.native) };
}
