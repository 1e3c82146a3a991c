import test from 'ava';
import { isSecretName, PLACEHOLDER_JWT, PLACEHOLDER_UUID, REDACTED, redactBody, redactUrl } from '../../src/capture/redact';
import { luhnValid } from '../../src/capture/secret-shapes';

// Real-world shapes. Each would reach disk without the redaction it tests.
const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjFlOWdkazcifQ.eyJpc3MiOiJodHRwczovL2V4YW1wbGUuY29tIiwic3ViIjoiMjQ4Mjg5NzYxMDAxIn0.NHVaYe26MbtOYhSKkoKYdFVomg4i8ZJd8_-RU8VNbftc4TSMb4bXP3l3YlNWACwyXPGffz5aXHc6lty1Y2t4SWRqGteragsVdZufDn5BlnJl9pdR_kdVFUsra2rWKEofkZeIC4yWytE58sMIihvo9H1ScmmVwBcQP6XETqYd0aSHp1gOa9RdUPDvoXQ5oqygTqVtxaDr6wUFKrKItgBMzWIdNZ6y7O9E0DhEPTbE9rfBo6KTFsHAZnMg4k68CDp2woYIaXbmYTWcvbzIuHO7_37GT79XdIwkm95QJ7hYC9RiwrV7mesbY4PAahERJawntho0my942XheVLmGwLMBkQ';
const HEX64 = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const UUID = '3b241101-e2bb-4255-8caf-4136c566a962';
const TOKEN = 'q8Tz1XbL0wVd3mKp7RsYe2NcHa9Ug4Jf'; // 32 base64url characters

const url = (u: string) => redactUrl(u);
const json = (v: unknown, type = 'application/json') => redactBody(JSON.stringify(v), type);

test('single-word lowercase names are secrets: accesstoken, authtoken, passcode, refreshtoken, apitoken, clientsecret, privatekey', (t) => {
  t.is(
    url('/cb?accesstoken=a1&authtoken=b2&passcode=c3&refreshtoken=d4&apitoken=e5&clientsecret=f6&privatekey=g7&sessionid=h8&apikey=i9'),
    '/cb?accesstoken=REDACTED&authtoken=REDACTED&passcode=REDACTED&refreshtoken=REDACTED&apitoken=REDACTED&clientsecret=REDACTED&privatekey=REDACTED&sessionid=REDACTED&apikey=REDACTED',
  );
});

test('one name in every spelling: Access-Token, access_token, accessToken, accesstoken, ACCESS_TOKEN', (t) => {
  for (const name of ['Access-Token', 'access_token', 'accessToken', 'accesstoken', 'ACCESS_TOKEN', 'access.token']) t.true(isSecretName(name), name);
});

test('a broad list of secret names', (t) => {
  const names = [
    'password', 'passwd', 'pwd', 'pw', 'newPassword', 'password_confirmation', 'user[password]', 'passphrase', 'passcode',
    'secret', 'client_secret', 'webhookSecret', 'token', 'csrfmiddlewaretoken', 'authenticity_token', '_csrf', 'xsrf-token',
    'X-Amz-Security-Token', 'X-Amz-Signature', 'X-Amz-Credential', 'sig', 'signature', 'oauth_signature', 'api_key', 'x-api-key',
    'key', 'AWSAccessKeyId', 'subscription-key', 'private_key', 'session', 'sessionId', 'PHPSESSID', 'JSESSIONID', 'connect.sid',
    'sid', 'auth', 'authorization', 'oauth_token', 'otp', 'totp', 'otp_code', 'smsOtp', 'mfa_code', 'verification_code',
    'pin', 'cvv', 'cvc', 'cardNumber', 'card_number', 'creditCard', 'ssn', 'jwt', 'bearer', 'cookie', 'credentials',
    // OAuth, OIDC, SAML, CAS
    'code', 'state', 'nonce', 'id_token', 'code_verifier', 'SAMLResponse', 'RelayState', 'client_assertion', 'ticket',
  ];
  const missed = names.filter((n) => !isSecretName(n));
  t.deepEqual(missed, []);
});

test('harmless names that contain a secret word are kept: author, keyword, monkey, tokenizer, max_tokens, country_code…', (t) => {
  const names = [
    'author', 'authorId', 'co_author', 'authority', 'keyword', 'keywords', 'monkey', 'hockey', 'tokenizer', 'tokenize',
    'max_tokens', 'maxTokens', 'max_completion_tokens', 'prompt_tokens', 'country_code', 'zipCode', 'promo_code',
    'announcement', 'className', 'spinner', 'footprint', 'hotplate', 'secretary', 'passenger', 'bypass', 'us_state', 'q', 'page',
  ];
  const redacted = names.filter((n) => isSecretName(n));
  t.deepEqual(redacted, []);
});

test('OAuth callback parameters: code and state go, scope stays', (t) => {
  t.is(url('/oauth/callback?code=4%2F0AeaYSHBx&state=af0ifjsldkj&scope=openid+email'), '/oauth/callback?code=REDACTED&state=REDACTED&scope=openid+email');
});

test('an id_token becomes a valid dummy JWT and a nonce is redacted', (t) => {
  t.is(url(`/cb?id_token=${JWT}&nonce=n-0S6_WzA2Mj`), `/cb?id_token=${PLACEHOLDER_JWT}&nonce=REDACTED`);
});

test('semicolon-separated parameters: a=1;token=x', (t) => {
  t.is(url('/api/items?a=1;token=x9y8;b=2'), '/api/items?a=1;token=REDACTED;b=2');
});

test('the segment after /reset-password/ and /verify-email/ is a secret, keeping its shape where known', (t) => {
  t.is(url('/reset-password/q8Tz1XbL0w?lang=en'), '/reset-password/REDACTED?lang=en');
  t.is(url(`/verify-email/${HEX64}`), `/verify-email/${'0'.repeat(64)}`);
  t.is(url(`/account/confirm/${UUID}`), `/account/confirm/${PLACEHOLDER_UUID}`);
  t.is(url('/password/reset/abcdefghijklmnopqrstuvwxyz'), '/password/reset/REDACTED');
  t.is(url('/invite/123456'), '/invite/000000');
});

test('matrix parameters: ;jsessionid=…', (t) => {
  t.is(url('/shop/cart;jsessionid=0A1B2C3D4E5F6A7B?item=3'), '/shop/cart;jsessionid=REDACTED?item=3');
});

test('secret shapes under harmless names: a JWT, long hex, a base64url token, in query and path', (t) => {
  t.is(url(`/img?u=${JWT}&w=200`), `/img?u=${PLACEHOLDER_JWT}&w=200`);
  t.is(url(`/hook?h=${HEX64}`), `/hook?h=${'0'.repeat(64)}`);
  t.is(url(`/s/${TOKEN}/view`), `/s/${REDACTED}/view`);
  t.is(url(`/files/${HEX64.slice(0, 40)}`), `/files/${'0'.repeat(40)}`);
});

test('a card number becomes digits of the same length and separators that pass Luhn; timestamps and ids stay', (t) => {
  t.is(url('/pay?number=4111111111111111&ts=1700000000000&order=1234567890123'), '/pay?number=4000000000000002&ts=1700000000000&order=1234567890123');
  t.is(url('/pay?n=4111+1111+1111+1111'), '/pay?n=4000%200000%200000%200002');
  t.is(url('/pay?amex=378282246310005'), '/pay?amex=400000000000006');
  t.true(luhnValid('400000000000006'));
});

test('resource ids, slugs and plain routes are kept', (t) => {
  for (const u of [`/orders/${UUID}/items`, '/products/Nike-Air-Max-270-React', '/api/auth/login', '/auth/callback', '/login/google', '/search?q=red+lamp&page=2']) {
    t.is(url(u), u);
  }
});

test('a URL inside a parameter has its own parameters and user info redacted', (t) => {
  t.is(url('/login?next=%2Fcb%3Fcode%3Dabc%26x%3D1'), '/login?next=%2Fcb%3Fcode%3DREDACTED%26x%3D1');
  t.is(url('/hooks?target=https%3A%2F%2Fbob%3Ahunter2%40hooks.example.com%2Fin'), '/hooks?target=https%3A%2F%2FREDACTED%40hooks.example.com%2Fin');
});

test('form bodies: names and shapes redacted, everything else byte for byte', (t) => {
  t.is(
    redactBody('authenticity_token=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5&user%5Bemail%5D=a%40b.c&user%5Bpasscode%5D=4321&commit=Sign+in', 'application/x-www-form-urlencoded'),
    'authenticity_token=REDACTED&user%5Bemail%5D=a%40b.c&user%5Bpasscode%5D=0000&commit=Sign+in',
  );
  t.is(redactBody('a=1;otp=123456', 'application/x-www-form-urlencoded; charset=UTF-8'), 'a=1;otp=000000');
});

test('JSON fields with single-word and camelCase secret names, nested anywhere', (t) => {
  t.is(
    json({ email: 'a@b.c', passcode: '1234', auth: { refreshtoken: 'r1', clientSecret: 's1' }, keys: [{ privateKey: '-----BEGIN KEY-----' }] }),
    JSON.stringify({ email: 'a@b.c', passcode: '0000', auth: { refreshtoken: REDACTED, clientSecret: REDACTED }, keys: [{ privateKey: REDACTED }] }),
  );
});

test('JSON nested in a JSON string is parsed and redacted', (t) => {
  const body = { event: 'login', payload: JSON.stringify({ user: 'bob', password: 'hunter2', meta: JSON.stringify({ apiKey: 'k-1' }) }) };
  t.is(json(body), JSON.stringify({ event: 'login', payload: JSON.stringify({ user: 'bob', password: REDACTED, meta: JSON.stringify({ apiKey: REDACTED }) }) }));
});

test('GraphQL: inline literal arguments and variables', (t) => {
  const body = {
    query: 'mutation Login { login(email: "a@b.c", password: "hunter2") { token } verify(input: {otp: 123456, note: "ok"}) }',
    variables: { input: { newPassword: 'x', pin: 1234, name: 'Bob' } },
  };
  t.is(
    json(body),
    JSON.stringify({
      query: 'mutation Login { login(email: "a@b.c", password: "REDACTED") { token } verify(input: {otp: 0, note: "ok"}) }',
      variables: { input: { newPassword: REDACTED, pin: 0, name: 'Bob' } },
    }),
  );
  t.is(redactBody('mutation { reset(token: """abc""", code: "9f") }', 'application/graphql'), 'mutation { reset(token: """REDACTED""", code: "REDACTED") }');
});

test('a JWT, a Bearer credential or a key=value secret inside free text in JSON', (t) => {
  t.is(
    json({ data: { t: JWT }, note: 'sent Bearer abc.def-123 from the app', cfg: 'a=1;token=x9;b=2' }, 'application/vnd.api+json'),
    JSON.stringify({ data: { t: PLACEHOLDER_JWT }, note: `sent Bearer ${REDACTED} from the app`, cfg: 'a=1;token=REDACTED;b=2' }),
  );
});

test('card numbers in JSON, as strings and as numbers', (t) => {
  t.is(
    json({ cardNumber: '4242 4242 4242 4242', pan: 4242424242424242, amount: 1700000000000, cvc: 123 }),
    JSON.stringify({ cardNumber: '4000 0000 0000 0002', pan: 4000000000000002, amount: 1700000000000, cvc: 0 }),
  );
});

test('text/plain is stored only when nothing in it looks secret', (t) => {
  t.is(redactBody('red lamp, quiet', 'text/plain; charset=utf-8'), 'red lamp, quiet');
  t.is(redactBody(`forwarded ${JWT}`, 'text/plain'), null);
  t.is(redactBody(`checksum ${HEX64}`, 'text/plain'), null);
  t.is(redactBody('the new passcode is 1234', 'text/plain'), null);
});

test('bodies of unknown or unparseable types are not stored', (t) => {
  t.is(redactBody('<q>red</q>', 'application/xml'), null);
  t.is(redactBody('q=red', undefined), null);
  t.is(redactBody('--b\r\nContent-Disposition: form-data; name="q"\r\n\r\nred\r\n--b--', 'multipart/form-data; boundary=b'), null);
  t.is(redactBody('{"password": ', 'application/json'), null);
});

test('JSON nested beyond any real request is not stored, and nothing throws', (t) => {
  t.is(redactBody('{"a":'.repeat(10_000) + '{"password":"x"}' + '}'.repeat(10_000), 'application/json'), null);
  t.is(redactBody('['.repeat(100) + '"x"' + ']'.repeat(100), 'application/json'), null);
});

test('placeholders keep their shape and redacting them again gives them back', (t) => {
  const [header, payload, signature] = PLACEHOLDER_JWT.split('.');
  t.is(JSON.parse(Buffer.from(header!, 'base64url').toString()).typ, 'JWT');
  t.is(JSON.parse(Buffer.from(payload!, 'base64url').toString()).sub, REDACTED);
  t.regex(signature!, /^[A-Za-z0-9_-]+$/);
  t.regex(PLACEHOLDER_UUID, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const once = url(`/verify-email/${HEX64}?id_token=${JWT}&n=4111111111111111&invite=${UUID}&x=${TOKEN}`);
  t.is(url(once), once);
});
