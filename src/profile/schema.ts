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
}

/** A request seen in production, kept to be replayed at warm-up. Never holds credentials (src/capture/redact.ts). */
export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  /** Only allowlisted headers (accept, accept-language, content-type). */
  headers: Record<string, string>;
  /** UTF-8 body, at most maxBodyBytes; absent for requests without one. */
  body?: string;
  /** How often it was seen (decayed over generations, like the samples). */
  count: number;
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
}

export type ParseResult = { ok: true; profile: WarmupProfile } | { ok: false; reason: string };

/** Checks an untrusted profile.json text. The reason is one sentence a user can act on. */
export function parseProfile(text: string): ParseResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: endsEarly(text, error) ? 'it is truncated (the JSON ends early)' : 'it is not valid JSON' };
  }
  if (!isObject(data) || data.tool !== 'preheat' || !('schemaVersion' in data)) {
    return { ok: false, reason: 'it is not a preheat profile (no "tool": "preheat" and "schemaVersion")' };
  }
  if (data.schemaVersion !== SCHEMA_VERSION) {
    return {
      ok: false,
      reason: `it has schema version ${JSON.stringify(data.schemaVersion)}; this preheat reads version ${SCHEMA_VERSION}`,
    };
  }
  const problem = checkShape(data);
  return problem ? { ok: false, reason: problem } : { ok: true, profile: data as unknown as WarmupProfile };
}

function checkShape(d: Record<string, unknown>): string | null {
  for (const k of ['preheatVersion', 'node', 'v8', 'appRoot', 'createdAt', 'updatedAt'] as const) {
    if (typeof d[k] !== 'string') return `its field "${k}" is not a string`;
  }
  for (const k of ['generation', 'sampleIntervalMicros'] as const) {
    if (!isCount(d[k])) return `its field "${k}" is not a non-negative number`;
  }
  const s = d.samples;
  if (!isObject(s) || !['busy', 'gc', 'program', 'native'].every((k) => isCount(s[k]))) {
    return 'its field "samples" is not a set of counts';
  }
  if (!Array.isArray(d.hotFunctions)) return 'its field "hotFunctions" is not a list';
  for (const [i, f] of d.hotFunctions.entries()) {
    const ok =
      isObject(f) &&
      typeof f.name === 'string' &&
      typeof f.file === 'string' &&
      Number.isInteger(f.line) &&
      Number.isInteger(f.column) &&
      (f.sourceHash === null || typeof f.sourceHash === 'string') &&
      ['selfSamples', 'totalSamples', 'share', 'totalShare'].every((k) => isCount(f[k]));
    if (!ok) return `hot function #${i + 1} is malformed`;
  }
  if (d.requests !== undefined) {
    if (!Array.isArray(d.requests)) return 'its field "requests" is not a list';
    for (const [i, r] of d.requests.entries()) {
      const ok =
        isObject(r) &&
        typeof r.method === 'string' &&
        /^[A-Z]+$/.test(r.method) &&
        // Whether the target may be sent is the replay's rule (warmup/replay.ts), checked per request.
        typeof r.url === 'string' &&
        isObject(r.headers) &&
        Object.values(r.headers).every((v) => typeof v === 'string') &&
        (r.body === undefined || typeof r.body === 'string') &&
        isCount(r.count);
      if (!ok) return `request #${i + 1} is malformed`;
    }
  }
  return null;
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

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
