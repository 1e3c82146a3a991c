/**
 * Which names hold secrets: query and form parameters, JSON fields, GraphQL arguments, matrix
 * parameters, path segments. Names are compared normalised (lowercase, separators removed), so
 * `Access-Token`, `access_token`, `accessToken` and `accesstoken` are one name. Redacting a
 * harmless value costs a less faithful replay; keeping a secret costs a leak: when in doubt, redact.
 * The list and its reasons are in docs/redaction.md.
 */

/** In any position of the normalised name: `refreshtoken`, `xamzsignature`, `clientsecret`… */
const STRONG_PARTS = [
  'token', 'secret', 'passw', 'passcode', 'passphrase', 'pwd', 'apikey', 'credential', 'session', 'sessid',
  'auth', 'signature', 'cookie', 'bearer', 'jwt', 'csrf', 'xsrf', 'cvv', 'cvc',
  // keys that are credentials (a bare `key` is a word below; `keyword`, `monkey`, `sortkey` are not secrets)
  'privatekey', 'accesskey', 'secretkey', 'signingkey', 'encryptionkey', 'masterkey', 'clientkey', 'sshkey',
  'subscriptionkey', 'licensekey', 'consumerkey', 'hmackey',
  // one-time codes and card data
  'verificationcode', 'confirmationcode', 'activationcode', 'resetcode', 'recoverycode', 'backupcode',
  'securitycode', 'smscode', 'mfacode', 'logincode', 'invitecode', 'cardnumber', 'cardnum', 'ccnumber', 'creditcard',
];

/**
 * Harmless names that contain a strong part, removed before the search: `author` (not
 * `authorization`), `tokenizer`, LLM APIs' token counts (`max_tokens`), `secretary`…
 */
const HARMLESS = /author(?!i[sz])|tokeniz|(?:max|min)(?:output|new|completion)?tokens?|(?:num|total|prompt|completion|input|output|reasoning|cached)tokens|tokens?(?:count|limit|used|budget|usage)|secretar/g;

/** Whole words only (split at separators and camelCase): `pin` but not `spinner`, `ssn` but not `classname`. */
const WORDS = new Set([
  'pass', 'pw', 'pin', 'sid', 'sig', 'mfa', 'ssn', 'csc', 'pat', 'key', 'nonce', 'salt', 'otp',
]);

/**
 * Whole names only: OAuth/OIDC/SAML/CAS parameters whose names are common words elsewhere
 * (`code` is a secret in `/callback?code=…`, while `country_code` is not).
 */
const EXACT = new Set([
  'code', 'state', 'codeverifier', 'samlresponse', 'samlrequest', 'relaystate', 'assertion', 'clientassertion',
  'ticket', 'oauthverifier', 'sig', 'sessid', 'phpsessid', 'connectsid', 'otp', 'pin',
]);

export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function isSecretName(name: string): boolean {
  const normal = normaliseName(name);
  if (!normal) return false;
  if (EXACT.has(normal)) return true;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  if (words.some((w) => WORDS.has(w))) return true;
  // `otp` inside a name is too common (`footprint`, `hotplate`): only at its start or end (`otpcode`, `smsotp`, `totp`).
  if (normal.startsWith('otp') || normal.endsWith('otp')) return true;
  const rest = normal.replace(HARMLESS, ' ');
  return STRONG_PARTS.some((part) => rest.includes(part));
}

/**
 * Path segments after which the next segment is a secret: `/reset-password/<token>`,
 * `/verify-email/<token>`, `/invite/<code>`, `/magic-link/<token>`, and any secret name (`/token/<t>`).
 */
const PATH_MARKERS = new Set([
  'verify', 'verifyemail', 'emailverification', 'verification', 'confirm', 'confirmemail', 'confirmation',
  'activate', 'activation', 'invite', 'invites', 'invitation', 'invitations', 'magiclink', 'magic', 'unsubscribe',
  'reset', 'recover', 'recovery', 'onetime', 'share', 'shared',
]);

export function isSecretPathMarker(segment: string): boolean {
  return PATH_MARKERS.has(normaliseName(segment)) || isSecretName(segment);
}
