/**
 * What of a request may be stored. Recorded requests are replayed later and sit in a file that is
 * baked into images: credentials must never reach it. Headers are kept by allowlist (anything not
 * listed, cookies and authorization included, is dropped); query parameters and JSON body fields
 * whose names look like secrets keep their name and lose their value.
 */
const KEPT_HEADERS = new Set(['accept', 'accept-language', 'content-type']);

/** Words that make a name a secret's: `api_key`, `accessToken`, `X-Session-Id`, `pwd`… */
const SECRET_WORDS = new Set([
  'password', 'passwd', 'pass', 'pwd', 'passphrase', 'secret', 'token', 'auth', 'authorization', 'credential',
  'credentials', 'session', 'sessionid', 'sid', 'signature', 'sig', 'apikey', 'key', 'otp', 'jwt', 'bearer',
  'cookie', 'ssn', 'pin', 'cvv', 'cvc',
]);
/** Any of those words in free text (bodies of other types). */
const SECRET_TEXT = /(password|passwd|secret|token|api[-_]?key|authorization|bearer|session|cookie)/i;

export const REDACTED = 'REDACTED';

export function keptHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!KEPT_HEADERS.has(lower) || value === undefined) continue;
    out[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some((w) => SECRET_WORDS.has(w)) || SECRET_WORDS.has(words.join(''));
}

/** The path and query with secret-looking parameter values replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const name of new Set(params.keys())) {
    if (isSecretName(name)) {
      params.set(name, REDACTED);
      changed = true;
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}

/**
 * A body safe to store, or null when it cannot be made safe: JSON has its secret-looking fields
 * redacted, form bodies their secret-looking parameters; any other type is kept only when it has
 * none of the secret words at all.
 */
export function redactBody(body: string, contentType: string | undefined): string | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.stringify(redactJson(JSON.parse(body)));
    } catch {
      return null;
    }
  }
  if (type === 'application/x-www-form-urlencoded') return redactUrl(`?${body}`).slice(1);
  return SECRET_TEXT.test(body) ? null : body;
}

function redactJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactJson);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = isSecretName(k) ? REDACTED : redactJson(x);
    return out;
  }
  return v;
}
