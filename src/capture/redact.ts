import { isSecretName, isSecretPathMarker } from './secret-names';
import { isCardNumber, placeholderFor, REDACTED, redactShapesInText } from './secret-shapes';

/**
 * What of a request may be stored. Recorded requests are replayed later and sit in a file that is
 * baked into images: credentials must never reach it. Headers are kept by allowlist (cookies and
 * authorization are dropped); in the path, the query and every stored body, values are redacted by
 * their name (secret-names.ts) and by their shape (secret-shapes.ts), down through JSON nested in
 * strings, URLs in values and GraphQL arguments. A body that cannot be parsed is not stored, and
 * the request with it is not recorded. The rules, in the project's words: docs/redaction.md.
 */
export { isSecretName } from './secret-names';
export { isSecretShape, PLACEHOLDER_JWT, PLACEHOLDER_UUID, REDACTED } from './secret-shapes';

/**
 * `accept-encoding` selects the compression path (json-server, express's `compression`, fastify's
 * compress plugin): a replay without it leaves that path cold for every real client that sends it.
 */
const KEPT_HEADERS = new Set(['accept', 'accept-encoding', 'accept-language', 'content-type']);

/** JSON in a string in JSON… deeper than this is not a request worth a replay: not stored. */
const MAX_DEPTH = 64;

class TooDeep extends Error {}

export function keptHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!KEPT_HEADERS.has(lower) || value === undefined) continue;
    out[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The path, query and fragment with secret values replaced. Throws for absurd nesting (the caller drops the request). */
export function redactUrl(url: string, depth = 0): string {
  if (depth > MAX_DEPTH) throw new TooDeep();
  const hash = url.indexOf('#');
  const beforeHash = hash === -1 ? url : url.slice(0, hash);
  const q = beforeHash.indexOf('?');
  let path = q === -1 ? beforeHash : beforeHash.slice(0, q);
  // A URL inside a value (`?redirect_uri=https://user:pw@host/cb?code=…`): its user info goes.
  const origin = /^(?:[a-z][a-z0-9+.-]*:)?\/\/[^/]*/i.exec(path)?.[0] ?? '';
  path = path.slice(origin.length);
  let out = origin.replace(/\/\/[^/@]*@/, `//${REDACTED}@`) + redactPath(path, depth);
  if (q !== -1) out += '?' + redactParams(beforeHash.slice(q + 1), depth);
  if (hash !== -1) out += '#' + redactParams(url.slice(hash + 1), depth);
  return out;
}

/**
 * A body safe to store, or null when it cannot be made safe. JSON (`application/json`, `…+json`),
 * forms and `application/graphql` are redacted; `text/plain` is stored only when nothing in it
 * looks secret (it has no structure to redact by); every other type is not stored.
 */
export function redactBody(body: string, contentType: string | undefined): string | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  try {
    if (type === 'application/json' || type.endsWith('+json')) return JSON.stringify(redactJson(JSON.parse(body), 0));
    if (type === 'application/x-www-form-urlencoded') return redactParams(body, 0);
    if (type === 'application/graphql') return redactGraphql(body, 0);
    if (type === 'text/plain') return SECRET_TEXT.test(body) || redactValue(body, 0) !== body ? null : body;
    return null;
  } catch {
    return null;
  }
}

/** Secret words in text with no structure: such a text/plain body is not stored at all. */
const SECRET_TEXT = /passw|passcode|passphrase|secret|token|api[-_ ]?key|authoriz|bearer|session|cookie|credential|private[-_ ]?key|\bpin\b|\botp\b/i;

/**
 * Any string value that is not secret by its name: JSON inside it, a URL, GraphQL arguments,
 * `name=value` pairs, `Bearer …`, then secret shapes anywhere in it.
 */
export function redactValue(value: string, depth: number): string {
  if (depth > MAX_DEPTH) throw new TooDeep();
  const t = value.trim();
  if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
    const parsed = parseJson(t);
    if (parsed !== null && typeof parsed === 'object') return JSON.stringify(redactJson(parsed, depth + 1));
  }
  if (/^(?:[a-z][a-z0-9+.-]*:\/\/|\/)\S*$/i.test(t)) return redactUrl(t, depth + 1);
  let out = redactGraphql(value, depth);
  out = out.replace(/\b(Bearer|Basic|Digest|Token)(\s+)[A-Za-z0-9._~+/=-]{6,}/gi, `$1$2${REDACTED}`);
  out = out.replace(/\/\/[^\s/@:]+:[^\s/@]+@/g, `//${REDACTED}@`);
  out = out.replace(/([A-Za-z0-9_.[\]-]+)=([^&;\s,"']*)/g, (m, name: string, v: string) =>
    v !== '' && isSecretName(name) ? `${name}=${placeholderFor(v)}` : m,
  );
  return redactShapesInText(out);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function redactJson(v: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new TooDeep();
  if (typeof v === 'string') return redactValue(v, depth);
  if (typeof v === 'number') return isCardNumber(String(v)) ? Number(placeholderFor(String(v))) : v;
  if (Array.isArray(v)) return v.map((x) => redactJson(x, depth + 1));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = isSecretName(k) ? redactAll(x, depth + 1) : redactJson(x, depth + 1);
    return out;
  }
  return v;
}

/** Under a secret name: every leaf goes, the structure stays (a validator still sees an object of strings). */
function redactAll(v: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new TooDeep();
  if (typeof v === 'string') return v === '' ? v : placeholderFor(v);
  if (typeof v === 'number') return isCardNumber(String(v)) ? Number(placeholderFor(String(v))) : 0;
  if (Array.isArray(v)) return v.map((x) => redactAll(x, depth + 1));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactAll(x, depth + 1)]));
  return v;
}

/** `a=1&b=2` and `a=1;b=2` (query, fragment, form body, matrix parameters), separators and encoding kept. */
function redactParams(text: string, depth: number): string {
  return text
    .split(/([&;])/)
    .map((part, i) => (i % 2 === 1 ? part : redactPair(part, depth)))
    .join('');
}

function redactPair(part: string, depth: number): string {
  const eq = part.indexOf('=');
  if (eq === -1) {
    const value = decodeForm(part);
    const safe = redactValue(value, depth + 1);
    return safe === value ? part : encodeURIComponent(safe);
  }
  const name = part.slice(0, eq);
  const value = decodeForm(part.slice(eq + 1));
  if (value === '') return part;
  const safe = isSecretName(decodeForm(name)) ? placeholderFor(value) : redactValue(value, depth + 1);
  return safe === value ? part : `${name}=${encodeURIComponent(safe)}`;
}

function decodeForm(text: string): string {
  return decode(text.replace(/\+/g, ' '));
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Segments with a secret shape, the segment after a marker (`/reset-password/<token>`,
 * `/verify-email/<token>`) unless it is a plain word (`/login/callback`), and matrix parameters
 * (`/cart;jsessionid=…`).
 */
function redactPath(path: string, depth: number): string {
  let previous = '';
  return path
    .split('/')
    .map((segment) => {
      const semi = segment.indexOf(';');
      const raw = semi === -1 ? segment : segment.slice(0, semi);
      const matrix = semi === -1 ? '' : ';' + redactParams(segment.slice(semi + 1), depth);
      const value = decode(raw);
      const afterMarker = previous !== '' && isSecretPathMarker(previous);
      previous = value;
      let safe = value;
      if (afterMarker && value !== '' && !/^[a-z]{1,19}(?:[-_.][a-z]+)*$/.test(value)) safe = placeholderFor(value);
      else safe = redactShapesInText(value);
      return (safe === value ? raw : encodeURIComponent(safe)) + matrix;
    })
    .join('/');
}

/**
 * GraphQL literal arguments and input fields: `login(password: "x")`, `verify(pin: 1234)`,
 * `input: {token: """…"""}`. Secret names lose their literal; other string literals are redacted
 * like any value. Numbers under secret names become 0 (a valid Int; `0000` would not parse).
 */
const GRAPHQL_ARGUMENT = /([A-Za-z_][A-Za-z0-9_]*)(\s*:\s*)("""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b)/g;

function redactGraphql(text: string, depth: number): string {
  if (!text.includes(':')) return text;
  return text.replace(GRAPHQL_ARGUMENT, (m, name: string, colon: string, literal: string) => {
    const secret = isSecretName(name);
    if (literal.startsWith('"""')) {
      const inner = literal.slice(3, -3);
      const safe = secret ? placeholderFor(inner) : redactValue(inner, depth + 1);
      return safe === inner ? m : `${name}${colon}"""${safe}"""`;
    }
    if (literal.startsWith('"')) {
      const inner = parseJson(literal);
      if (typeof inner !== 'string') return secret ? `${name}${colon}"${REDACTED}"` : m;
      const safe = secret ? (inner === '' ? inner : placeholderFor(inner)) : redactValue(inner, depth + 1);
      return safe === inner ? m : `${name}${colon}${JSON.stringify(safe)}`;
    }
    if (!secret) return m;
    return `${name}${colon}${isCardNumber(literal) ? placeholderFor(literal) : '0'}`;
  });
}
