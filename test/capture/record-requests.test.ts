import test from 'ava';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RecordedRequest, WarmupProfile } from '../../src/profile/schema';
import { fixture, readJson, tempDir, warnings } from '../helpers/run';
import { bootService, get } from '../helpers/service';

const accounts = fixture('services', 'accounts', 'server.js');

/** A credential no file could contain by chance. */
const secret = (label: string) => `zz${label}${randomBytes(8).toString('hex')}`;
const secrets = {
  query: secret('query'),
  path: secret('path'),
  form: secret('form'),
  json: secret('json'),
  nested: secret('nested'),
  graphql: secret('graphql'),
};

/**
 * One recording of the accounts service under the real agent, shared by the tests below: plain
 * traffic, a forged replay header, credentials in every place, a 500, then a request whose
 * handler calls process.exit(), which writes the profile.
 */
const recording = (async () => {
  const dir = tempDir();
  const s = await bootService(accounts, { PREHEAT_MODE: 'record', PREHEAT_DIR: dir, PREHEAT_REPLAY_METHODS: 'GET,POST' });
  const json = { 'content-type': 'application/json' };
  await get(s.port, '/search?q=lamp');
  await get(s.port, '/search?q=lamp');
  await get(s.port, '/search?q=forged', { 'x-preheat-replay': '1' });
  await get(s.port, `/account?access_token=${secrets.query}&view=full`);
  await get(s.port, `/reset-password/${secrets.path}`);
  await get(s.port, '/login', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', `user=bob&password=${secrets.form}&remember=on`);
  await get(s.port, '/api/profile', json, 'POST', JSON.stringify({ name: 'Bob', auth: { refreshToken: secrets.json }, settings: JSON.stringify({ apiKey: secrets.nested }) }));
  await get(s.port, '/graphql', json, 'POST', JSON.stringify({ query: `mutation { login(email: "b@example.com", password: "${secrets.graphql}") { ok } }` }));
  await get(s.port, '/boom');
  await get(s.port, '/exit').catch(() => undefined); // the process ends before answering
  const exit = await s.stop();
  const profile = readJson<WarmupProfile>(path.join(dir, 'profile.json'));
  return { dir, exit, stderr: s.stderr(), requests: profile.requests ?? [] };
})();

const keyOf = (r: RecordedRequest) => `${r.method} ${r.url}${r.body === undefined ? '' : ` ${r.body}`}`;

test('a request with a forged x-preheat-replay header is still recorded', async (t) => {
  const { requests, stderr } = await recording;
  t.is(stderr, '');
  t.true(requests.some((r) => r.url === '/search?q=forged'), requests.map(keyOf).join('\n'));
});

test('a request whose handler calls process.exit() is not recorded, the ones answered before it are', async (t) => {
  const { requests, exit } = await recording;
  t.deepEqual(exit, { code: 0, signal: null }, 'the app ended itself with process.exit()');
  t.false(requests.some((r) => r.url.startsWith('/exit')), requests.map(keyOf).join('\n'));
  t.is(requests.find((r) => r.url === '/search?q=lamp')?.count, 2);
  t.false(requests.some((r) => r.url === '/boom'), 'answered 500: not recorded');
});

test('credentials sent in query, path, form and JSON bodies reach no file of the preheat dir', async (t) => {
  const { dir, requests } = await recording;
  // The requests are there, redacted, so the check below is not vacuous.
  t.deepEqual(requests.map(keyOf).sort(), [
    'GET /account?access_token=REDACTED&view=full',
    'GET /reset-password/REDACTED',
    'GET /search?q=forged',
    'GET /search?q=lamp',
    'POST /api/profile {"name":"Bob","auth":{"refreshToken":"REDACTED"},"settings":"{\\"apiKey\\":\\"REDACTED\\"}"}',
    'POST /graphql {"query":"mutation { login(email: \\"b@example.com\\", password: \\"REDACTED\\") { ok } }"}',
    'POST /login user=bob&password=REDACTED&remember=on',
  ]);
  const files = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  t.true(files.some((f) => f.name === 'profile.json'));
  for (const file of files) {
    const bytes = fs.readFileSync(path.join(file.parentPath ?? file.path, file.name));
    for (const [where, value] of Object.entries(secrets)) t.false(bytes.includes(value), `${where} secret in ${file.name}`);
  }
});

test('a request whose handler throws an uncaught exception is not recorded, the ones answered before it are', async (t) => {
  const dir = tempDir();
  const s = await bootService(accounts, { PREHEAT_MODE: 'record', PREHEAT_DIR: dir });
  await get(s.port, '/search?q=lamp');
  await get(s.port, '/search?q=lamp');
  await get(s.port, '/account?view=full');
  await get(s.port, '/throw?view=full').catch(() => undefined); // the process dies before answering
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    s.child.exitCode === null ? s.child.once('exit', (code, signal) => resolve({ code, signal })) : resolve({ code: s.child.exitCode, signal: null }),
  );
  // It ended as it would have without preheat: code 1, the app's error on stderr, not a word of ours.
  t.deepEqual(exit, { code: 1, signal: null });
  t.regex(s.stderr(), /Error: accounts: a bug in the \/throw handler/);
  t.deepEqual(warnings(s.stderr()), []);
  // The profile was written at that exit: what was answered before is in it, the fatal request is not.
  const requests = readJson<WarmupProfile>(path.join(dir, 'profile.json')).requests ?? [];
  t.deepEqual(requests.map((r) => [r.method, r.url, r.count]).sort(), [
    ['GET', '/account?view=full', 1],
    ['GET', '/search?q=lamp', 2],
  ]);
});
