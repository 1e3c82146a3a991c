import { MAX_COUNT, type HotFunction, type RecordedRequest, type SampleTotals, type WarmupProfile } from './schema';

/** Two recorded requests are the same when everything replayed would be the same. */
export function requestKey(r: Pick<RecordedRequest, 'method' | 'url' | 'headers' | 'body'>): string {
  const key = [r.method, r.url, r.headers['content-type'] ?? '', r.headers.accept ?? '', r.body ?? null];
  // Compressed and plain answers run different code. Only when present, so that the keys of
  // requests recorded before the header was kept (quarantine files hold them) stay the same.
  const encoding = r.headers['accept-encoding'];
  return JSON.stringify(encoding ? [...key, encoding] : key);
}

/**
 * Weighted sum of request lists by key, most frequent first, at most `max`. A request's steady
 * latency is the average of the lists' latencies weighted by their weighted counts; its status and
 * its port are those of the heaviest list that has one.
 */
export function mergeRequests(lists: { requests: RecordedRequest[] | undefined; weight: number }[], max: number): RecordedRequest[] | undefined {
  if (lists.every((l) => l.requests === undefined)) return undefined;
  const byKey = new Map<string, { request: RecordedRequest; latencySum: number; latencyWeight: number; statusWeight: number; portWeight: number }>();
  for (const { requests, weight } of lists) {
    for (const r of requests ?? []) {
      const key = requestKey(r);
      const w = r.count * weight;
      const old = byKey.get(key) ?? { request: { ...r, count: 0 }, latencySum: 0, latencyWeight: 0, statusWeight: -1, portWeight: -1 };
      old.request.count += w;
      if (r.latencyMs !== undefined && w > 0) {
        old.latencySum += r.latencyMs * w;
        old.latencyWeight += w;
      }
      if (r.status !== undefined && w > old.statusWeight) {
        old.request.status = r.status;
        old.statusWeight = w;
      }
      if (r.port !== undefined && w > old.portWeight) {
        old.request.port = r.port;
        old.portWeight = w;
      }
      byKey.set(key, old);
    }
  }
  return [...byKey.values()]
    .map(({ request, latencySum, latencyWeight }) => {
      const out: RecordedRequest = { ...request, count: round(request.count) };
      delete out.latencyMs;
      if (latencyWeight > 0) out.latencyMs = Math.round((latencySum / latencyWeight) * 1000) / 1000;
      return out;
    })
    .filter((r) => r.count >= 0.01)
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
    byKey.set(functionKey(f), withDeopts({ ...f, selfSamples: f.selfSamples * decay, totalSamples: f.totalSamples * decay }, scaled(f.deopts, decay)));
  }
  for (const f of current.hotFunctions) {
    const key = functionKey(f);
    const old = byKey.get(key);
    if (old && (old.sourceHash === f.sourceHash || old.sourceHash === null || f.sourceHash === null)) {
      byKey.set(key, withDeopts({ ...f, selfSamples: old.selfSamples + f.selfSamples, totalSamples: old.totalSamples + f.totalSamples }, added(old.deopts, f.deopts)));
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
  const merged = sumProfiles(profiles.map((p) => ({ profile: p, weight: 1 })), maxFunctions, maxRequests, false);
  return { ...merged, updatedAt: now.toISOString() };
}

/** Past this many instance ids a merged profile stops listing them (docs/profile-files.md). */
export const MAX_LISTED_INSTANCES = 10_000;

/**
 * One profile from the per-process profiles of one directory (and a profile.json that is not
 * made of them): each process's own samples, weighted by `decay` once for every generation it is
 * older than the newest. Each file holds only its own process's samples, so a baseline is never
 * counted twice however many workers started from it. Where a function's source hash differs
 * between generations, only the newest generation's counts for it are kept: older counts describe
 * other code.
 */
export function mergeGenerations(profiles: WarmupProfile[], decay: number, maxFunctions: number, maxRequests = Infinity): WarmupProfile {
  if (profiles.length === 0) throw new Error('nothing to merge');
  const newest = Math.max(...profiles.map((p) => p.generation));
  return sumProfiles(
    profiles.map((p) => ({ profile: p, weight: newest - p.generation > 1000 ? 0 : decay ** (newest - p.generation) })),
    maxFunctions,
    maxRequests,
    true,
  );
}

function sumProfiles(inputs: { profile: WarmupProfile; weight: number }[], maxFunctions: number, maxRequests: number, newestHashWins: boolean): WarmupProfile {
  const profiles = inputs.map((i) => i.profile);
  // Which source hash each function has in the newest generation that knows one.
  const current = new Map<string, { generation: number; hash: string }>();
  if (newestHashWins) {
    for (const p of profiles) {
      for (const f of p.hotFunctions) {
        if (f.sourceHash === null) continue;
        const key = functionKey(f);
        const seen = current.get(key);
        if (!seen || p.generation > seen.generation) current.set(key, { generation: p.generation, hash: f.sourceHash });
      }
    }
  }
  const byKey = new Map<string, HotFunction>();
  let samples: SampleTotals = { busy: 0, gc: 0, program: 0, native: 0 };
  for (const { profile: p, weight } of inputs) {
    samples = addTotals(samples, scaleTotals(p.samples, weight));
    for (const f of p.hotFunctions) {
      const key = functionKey(f);
      const hash = current.get(key)?.hash;
      if (hash !== undefined && f.sourceHash !== null && f.sourceHash !== hash) continue;
      const old = byKey.get(key);
      const self = f.selfSamples * weight;
      const total = f.totalSamples * weight;
      const deopts = scaled(f.deopts, weight);
      byKey.set(
        key,
        old
          ? withDeopts({ ...old, sourceHash: old.sourceHash ?? f.sourceHash, selfSamples: old.selfSamples + self, totalSamples: old.totalSamples + total }, added(old.deopts, deopts))
          : withDeopts({ ...f, selfSamples: self, totalSamples: total }, deopts),
      );
    }
  }
  const newest = profiles.reduce((a, b) => (b.generation > a.generation || (b.generation === a.generation && b.updatedAt > a.updatedAt) ? b : a));
  const requests = mergeRequests(inputs.map((i) => ({ requests: i.profile.requests, weight: i.weight })), maxRequests);
  const instances = [...new Set(profiles.flatMap((p) => p.instances ?? []))].sort().slice(0, MAX_LISTED_INSTANCES);
  const { instances: _dropped, ...base } = newest;
  const ranked = rank(
    {
      ...base,
      generation: Math.max(...profiles.map((p) => p.generation)),
      createdAt: profiles.map((p) => p.createdAt).reduce((a, b) => (a <= b ? a : b)),
      updatedAt: profiles.map((p) => p.updatedAt).reduce((a, b) => (a >= b ? a : b)),
      samples,
      hotFunctions: [...byKey.values()],
    },
    maxFunctions,
  );
  const withList = instances.length ? { ...ranked, instances } : ranked;
  return withRequests(withList, requests);
}

/** Recomputes shares against the profile's busy samples, sorts hottest first and keeps the top `maxFunctions`. */
export function rank(profile: WarmupProfile, maxFunctions: number): WarmupProfile {
  const busy = profile.samples.busy;
  const share = (n: number) => (busy > 0 ? round(n / busy) : 0);
  const hotFunctions = profile.hotFunctions
    // Decay leaves long tails of tiny counts; below a hundredth of a sample they carry no signal.
    .filter((f) => f.selfSamples >= 0.01 || f.totalSamples >= 0.01)
    .map((f) =>
      withDeopts(
        {
          ...f,
          selfSamples: round(f.selfSamples),
          totalSamples: round(f.totalSamples),
          share: share(f.selfSamples),
          totalShare: share(f.totalSamples),
        },
        f.deopts === undefined ? undefined : round(f.deopts),
      ),
    )
    .sort((a, b) => b.selfSamples - a.selfSamples || b.totalSamples - a.totalSamples || functionKey(a).localeCompare(functionKey(b)))
    .slice(0, maxFunctions);
  return { ...profile, samples: mapTotals(profile.samples, round), hotFunctions };
}

/** A function's deopt mark, weighted like its samples; a mark decayed to nothing goes. */
function withDeopts(f: HotFunction, deopts: number | undefined): HotFunction {
  const { deopts: _old, ...rest } = f;
  return deopts !== undefined && deopts >= 0.01 ? { ...rest, deopts } : rest;
}

function scaled(n: number | undefined, weight: number): number | undefined {
  return n === undefined ? undefined : n * weight;
}

function added(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
}

/**
 * Four decimals, within what a profile may hold: sums and quotients of valid counts (a share of a
 * tiny busy count) can pass MAX_COUNT or overflow, and what is written must parse again.
 */
function round(n: number): number {
  const r = Math.round(n * 1e4) / 1e4;
  return Number.isNaN(r) ? 0 : Math.min(r, MAX_COUNT);
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
