/**
 * Secrets recognised by their value, whatever their name: JWTs, long hex, long base64 tokens,
 * card numbers. A redacted value is replaced by a placeholder of the same shape where the shape
 * is known, so the replayed request still matches the route (`/reset/:token([0-9a-f]{64})`,
 * a UUID validator, a Luhn check); otherwise by `REDACTED`. Placeholders are fixed points:
 * redacting one again gives it back. Rules and reasons: docs/redaction.md.
 */

export const REDACTED = 'REDACTED';

const b64url = (s: string) => Buffer.from(s).toString('base64url');
/** A syntactically valid JWT (HS256 header, `{"sub":"REDACTED"}`, a zero signature). */
export const PLACEHOLDER_JWT = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url('{"sub":"REDACTED"}')}.${'A'.repeat(43)}`;
/** A UUID that version checks accept (v4, RFC variant). */
export const PLACEHOLDER_UUID = '00000000-0000-4000-8000-000000000000';

const JWT = /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]{32,}$/i;
const CARDLIKE = /^\d(?:[ -]?\d){12,18}$/;
const BASE64 = /^[A-Za-z0-9+/_-]{24,}={0,2}$/;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * 13 to 19 digits (spaces or dashes between them allowed) that pass Luhn and start with 2–6,
 * the first digits of the card networks: millisecond timestamps (1…) and most ids are left alone.
 */
export function isCardNumber(value: string): boolean {
  if (!CARDLIKE.test(value)) return false;
  const digits = value.replace(/[ -]/g, '');
  return digits[0]! >= '2' && digits[0]! <= '6' && luhnValid(digits);
}

/**
 * 24+ base64 or base64url characters with upper case, lower case and digits (a random token has
 * all three), unless it reads as a slug of words and numbers (`Nike-Air-Max-270-React`).
 */
export function isBase64Token(value: string): boolean {
  if (!BASE64.test(value) || !/[A-Z]/.test(value) || !/[a-z]/.test(value) || !/[0-9]/.test(value)) return false;
  const parts = value.split(/[-_]/);
  return !(parts.length >= 3 && parts.every((p) => /^(?:[A-Za-z]+|[0-9]+)$/.test(p)));
}

/** Whether a whole value is a secret by its shape alone. UUIDs are not: most are resource ids. */
export function isSecretShape(value: string): boolean {
  return JWT.test(value) || HEX.test(value) || isCardNumber(value) || isBase64Token(value);
}

/** `REDACTED`, or a value of the same shape for a JWT, a UUID, hex (32+), a card number, digits. */
export function placeholderFor(value: string): string {
  if (JWT.test(value)) return PLACEHOLDER_JWT;
  if (UUID.test(value)) return PLACEHOLDER_UUID;
  if (HEX.test(value)) return '0'.repeat(value.length);
  if (isCardNumber(value)) return cardPlaceholder(value);
  if (/^\d+$/.test(value)) return '0'.repeat(value.length);
  return REDACTED;
}

/** Same length and separators, a 4 then zeros, and the Luhn check digit. */
function cardPlaceholder(value: string): string {
  const n = value.replace(/[ -]/g, '').length;
  const body = '4' + '0'.repeat(n - 2);
  const check = [...'0123456789'].find((d) => luhnValid(body + d))!;
  const digits = body + check;
  let i = 0;
  return value.replace(/\d/g, () => digits[i++]!);
}

/**
 * Secret shapes anywhere in free text (`Bearer eyJ…`, a token inside a sentence or a path). One
 * pass with the alternatives in priority order, so a JWT is never read again as base64.
 */
const IN_TEXT = new RegExp(
  [
    /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/.source,
    /(?<![A-Za-z0-9.])\d(?:[ -]?\d){12,18}(?![A-Za-z0-9.])/.source,
    /(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/_=-])/.source,
  ].join('|'),
  'g',
);

export function redactShapesInText(text: string): string {
  return text.replace(IN_TEXT, (m) => {
    if (m.startsWith('eyJ') && JWT.test(m)) return PLACEHOLDER_JWT;
    if (/^\d/.test(m) && CARDLIKE.test(m)) return isCardNumber(m) ? cardPlaceholder(m) : m;
    // A run with '/' but no '+' or '=' is more likely a path than standard base64: judge its pieces.
    if (m.includes('/') && !/[+=]/.test(m)) return m.split('/').map(redactPiece).join('/');
    return redactPiece(m);
  });
}

function redactPiece(piece: string): string {
  if (HEX.test(piece)) return '0'.repeat(piece.length);
  return isBase64Token(piece) ? REDACTED : piece;
}
