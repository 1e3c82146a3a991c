/**
 * profile.json: the warm-up profile. Data only — it is parsed and checked here, never evaluated.
 * Bump SCHEMA_VERSION on any change a previous reader would misread.
 */
export const SCHEMA_VERSION = 1;

export interface HotFunction {
  name: string;
  /** Relative to the app root with '/' separators; absolute for files outside it; `node:…` for core modules. */
  file: string;
  /** 1-based line of the function's start as V8 reports it (the parameter list's opening parenthesis). */
  line: number;
  /** 1-based column of the same point. */
  column: number;
  /** `sha256:<16 hex>` of the function's source text; null for dependencies (node_modules) and sources that could not be read. */
  sourceHash: string | null;
  /** Samples at the top of the stack (decayed over generations, so not always a whole number). */
  selfSamples: number;
  /** Samples anywhere on the stack. */
  totalSamples: number;
  /** selfSamples / the profile's busy samples. */
  share: number;
  /** totalSamples / the profile's busy samples. */
  totalShare: number;
  /**
   * Times real traffic was seen to take away its optimized code after a warm-up had optimized it
   * (src/warmup/deopt-watch.ts), decayed over generations like the samples. Absent when never.
   * The next warm-up leaves such a function to V8's own tier-up instead of forcing it.
   */
  deopts?: number;
}

/** A request seen in production, kept to be replayed at warm-up. Never holds credentials (src/capture/redact.ts). */
export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  /** Only allowlisted headers (accept, accept-encoding, accept-language, content-type). */
  headers: Record<string, string>;
  /** UTF-8 body, at most maxBodyBytes; absent for requests without one. */
  body?: string;
  /** How often it was seen (decayed over generations, like the samples). */
  count: number;
  /** The status it was answered with most often. Absent in profiles written before latencies were kept. */
  status?: number;
  /**
   * Its server-side latency at steady state, in milliseconds: the median of the newest windows
   * recorded after PREHEAT_STEADY_AFTER_MS, from the request's start to its response's finish.
   * Absent when too few steady requests were seen; warm mode then falls back to a request count.
   */
  latencyMs?: number;
  /**
   * The local TCP port of the app server that answered it (the one it was seen on most often):
   * warm mode replays to the server listening on the port that carried most of the recorded
   * traffic. Absent in profiles written before ports were kept.
   */
  port?: number;
}

export interface SampleTotals {
  /** Samples that were not idle: the denominator of every share. */
  busy: number;
  gc: number;
  program: number;
  native: number;
}

export interface WarmupProfile {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: 'preheat';
  preheatVersion: string;
  node: string;
  v8: string;
  appRoot: string;
  /** 1 for the first recording; each recording merged in adds one. */
  generation: number;
  createdAt: string;
  updatedAt: string;
  sampleIntervalMicros: number;
  samples: SampleTotals;
  /** Ranked: most self samples first, then most total samples. */
  hotFunctions: HotFunction[];
  /** The most frequent requests, most frequent first. Absent in profiles of apps that serve no HTTP. */
  requests?: RecordedRequest[];
  /**
   * The recording processes whose samples this profile holds (ids as in `profile.<id>.json`, see
   * docs/profile-files.md), so that a merged profile next to the per-process files it was made
   * from is not counted twice. Absent in profiles written before per-process files.
   */
  instances?: string[];
}

/** Past these a file is not a profile preheat wrote (`maxFunctions` and `maxRequests` stop at 100 000). */
const MAX_FUNCTIONS = 100_000;
const MAX_REQUESTS = 100_000;
const MAX_INSTANCES = 10_000;
const MAX_HEADERS = 32;
/** Far above any real route with its query: a longer "url" is not a request preheat recorded. */
const MAX_URL_LENGTH = 64 * 1024;

export type ParseResult =
  | { ok: true; profile: WarmupProfile }
  /** `otherVersion`: a preheat profile of a schema version this preheat does not read (another version of the app may). */
  | { ok: false; reason: string; otherVersion?: boolean };

/**
 * Checks an untrusted profile.json text and returns a fresh copy of its known fields only: nothing
 * of the input's own objects (prototype keys such as `__proto__`, unknown fields, deep nesting)
 * reaches the rest of preheat. Never throws. The reason is one sentence a user can act on.
 */
export function parseProfile(text: string): ParseResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: endsEarly(text, error) ? 'it is truncated (the JSON ends early)' : 'it is not valid JSON' };
  }
  try {
    if (!isObject(data) || data.tool !== 'preheat' || !hasOwn(data, 'schemaVersion')) {
      return { ok: false, reason: 'it is not a preheat profile (no "tool": "preheat" and "schemaVersion")' };
    }
    if (data.schemaVersion !== SCHEMA_VERSION) {
      const v = typeof data.schemaVersion === 'number' || typeof data.schemaVersion === 'string' ? JSON.stringify(data.schemaVersion) : 'of another kind';
      return {
        ok: false,
        reason: `it has schema version ${v.slice(0, 20)}; this preheat reads version ${SCHEMA_VERSION}`,
        otherVersion: true,
      };
    }
    return readShape(data);
  } catch (error) {
    // A check above that did not foresee some input: still a clean answer, never an exception.
    return { ok: false, reason: `it cannot be checked (${(error as Error)?.message ?? String(error)})` };
  }
}

function readShape(d: Record<string, unknown>): ParseResult {
  const bad = (reason: string): ParseResult => ({ ok: false, reason });
  for (const k of ['preheatVersion', 'node', 'v8', 'appRoot', 'createdAt', 'updatedAt'] as const) {
    if (typeof d[k] !== 'string') return bad(`its field "${k}" is not a string`);
  }
  if (!Number.isSafeInteger(d.generation) || (d.generation as number) < 0) return bad('its field "generation" is not a non-negative whole number');
  if (!isCount(d.sampleIntervalMicros)) return bad('its field "sampleIntervalMicros" is not a non-negative number');
  const s = d.samples;
  if (!isObject(s) || !['busy', 'gc', 'program', 'native'].every((k) => isCount(s[k]))) {
    return bad('its field "samples" is not a set of counts');
  }
  if (!Array.isArray(d.hotFunctions)) return bad('its field "hotFunctions" is not a list');
  if (d.hotFunctions.length > MAX_FUNCTIONS) return bad(`its field "hotFunctions" has more than ${MAX_FUNCTIONS} entries`);
  const hotFunctions: HotFunction[] = [];
  for (const [i, f] of d.hotFunctions.entries()) {
    const ok =
      isObject(f) &&
      typeof f.name === 'string' &&
      typeof f.file === 'string' &&
      f.file !== '' &&
      !f.file.includes('\0') &&
      isPosition(f.line, 1) &&
      isPosition(f.column, 0) &&
      (f.sourceHash === null || typeof f.sourceHash === 'string') &&
      ['selfSamples', 'totalSamples', 'share', 'totalShare'].every((k) => isCount(f[k])) &&
      (f.deopts === undefined || isCount(f.deopts));
    if (!ok) return bad(`hot function #${i + 1} is malformed`);
    hotFunctions.push({
      name: f.name as string,
      file: f.file as string,
      line: f.line as number,
      column: f.column as number,
      sourceHash: f.sourceHash as string | null,
      selfSamples: f.selfSamples as number,
      totalSamples: f.totalSamples as number,
      share: f.share as number,
      totalShare: f.totalShare as number,
      ...(f.deopts === undefined ? {} : { deopts: f.deopts as number }),
    });
  }
  const profile: WarmupProfile = {
    schemaVersion: SCHEMA_VERSION,
    tool: 'preheat',
    preheatVersion: d.preheatVersion as string,
    node: d.node as string,
    v8: d.v8 as string,
    appRoot: d.appRoot as string,
    generation: d.generation as number,
    createdAt: d.createdAt as string,
    updatedAt: d.updatedAt as string,
    sampleIntervalMicros: d.sampleIntervalMicros as number,
    samples: { busy: s.busy as number, gc: s.gc as number, program: s.program as number, native: s.native as number },
    hotFunctions,
  };
  if (d.requests !== undefined) {
    if (!Array.isArray(d.requests)) return bad('its field "requests" is not a list');
    if (d.requests.length > MAX_REQUESTS) return bad(`its field "requests" has more than ${MAX_REQUESTS} entries`);
    const requests: RecordedRequest[] = [];
    for (const [i, r] of d.requests.entries()) {
      const request = readRequest(r);
      if (!request) return bad(`request #${i + 1} is malformed`);
      requests.push(request);
    }
    profile.requests = requests;
  }
  if (d.instances !== undefined) {
    const ids = d.instances;
    if (!Array.isArray(ids) || ids.length > MAX_INSTANCES || !ids.every((id) => typeof id === 'string' && INSTANCE_ID.test(id))) {
      return bad('its field "instances" is not a list of instance ids');
    }
    profile.instances = [...(ids as string[])];
  }
  return { ok: true, profile };
}

/** What a per-process file name may carry between `profile.` and `.json` (docs/profile-files.md). */
export const INSTANCE_ID = /^[A-Za-z0-9_-]{1,128}$/;

function readRequest(r: unknown): RecordedRequest | null {
  if (!isObject(r) || typeof r.method !== 'string' || !/^[A-Z]{1,32}$/.test(r.method)) return null;
  // Whether the target may be sent (origin-form, no spaces or CR LF) is the replay's rule, checked per
  // request at replay time (warmup/replay.ts): one odd request does not cost the whole profile.
  if (typeof r.url !== 'string' || r.url.length > MAX_URL_LENGTH) return null;
  if (!isObject(r.headers) || !isCount(r.count)) return null;
  if (r.body !== undefined && typeof r.body !== 'string') return null;
  const entries = Object.entries(r.headers);
  if (entries.length > MAX_HEADERS) return null;
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of entries) {
    // A header name is an HTTP token; a value has no control characters but tab.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/.test(name) || name === '__proto__' || typeof value !== 'string' || /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) return null;
    headers[name] = value;
  }
  const request: RecordedRequest = { method: r.method, url: r.url, headers: { ...headers }, count: r.count };
  if (r.body !== undefined) request.body = r.body;
  // Optional measurements: a value that is not one is dropped, not a reason to refuse the request.
  if (Number.isInteger(r.status) && (r.status as number) >= 100 && (r.status as number) <= 599) request.status = r.status as number;
  if (typeof r.latencyMs === 'number' && Number.isFinite(r.latencyMs) && r.latencyMs >= 0 && r.latencyMs <= 3_600_000) request.latencyMs = r.latencyMs;
  if (Number.isInteger(r.port) && (r.port as number) >= 1 && (r.port as number) <= 65535) request.port = r.port as number;
  return request;
}

/** JSON.parse failed at (or past) the last character: the file was cut off, typically by a crash mid-write. */
function endsEarly(text: string, error: unknown): boolean {
  const message = String(error);
  if (/end of (JSON )?input|Unterminated string/i.test(message)) return true;
  const at = /at position (\d+)/.exec(message);
  const length = text.trimEnd().length;
  return at !== null && length > 0 && Number(at[1]) >= length - 1 && /^\s*[{[]/.test(text);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasOwn(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

/**
 * The largest count or share a profile may hold: 1 kHz for 30 000 years. A larger one is corrupt,
 * and could overflow to Infinity when merged (merge.ts keeps its results under it too).
 */
export const MAX_COUNT = 1e15;

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_COUNT;
}

/** A 1-based line or column as V8 reports it; V8 keeps positions in 32-bit integers. */
function isPosition(v: unknown, min: number): v is number {
  return Number.isInteger(v) && (v as number) >= min && (v as number) < 2 ** 31;
}
