import test from 'ava';
import { parseProfile, SCHEMA_VERSION } from '../../src/profile/schema';
import { serializeProfile } from '../../src/profile/store';
import { profileOf } from '../helpers/profiles';

test('a serialized profile parses back to the same data', (t) => {
  const p = profileOf([{ selfSamples: 3, totalSamples: 5 }]);
  const parsed = parseProfile(serializeProfile(p));
  t.true(parsed.ok);
  t.deepEqual(parsed.ok && parsed.profile, p);
});

test('a truncated profile is named as truncated', (t) => {
  const text = serializeProfile(profileOf([{ selfSamples: 3 }]));
  const parsed = parseProfile(text.slice(0, text.length / 2));
  t.deepEqual(parsed, { ok: false, reason: 'it is truncated (the JSON ends early)' });
});

test('garbage, foreign JSON and other schema versions are told apart', (t) => {
  t.deepEqual(parseProfile('\u0000\u0001binary'), { ok: false, reason: 'it is not valid JSON' });
  t.regex((parseProfile('{"nodes": [], "samples": []}') as { reason: string }).reason, /not a preheat profile/);
  t.regex((parseProfile('[1,2,3]') as { reason: string }).reason, /not a preheat profile/);
  const future = { ...profileOf([]), schemaVersion: SCHEMA_VERSION + 1 };
  t.is(
    (parseProfile(JSON.stringify(future)) as { reason: string }).reason,
    `it has schema version ${SCHEMA_VERSION + 1}; this preheat reads version ${SCHEMA_VERSION}`,
  );
});

test('a malformed hot function is pointed at, not trusted', (t) => {
  const p = profileOf([{ selfSamples: 1 }, { selfSamples: 1 }]) as any;
  p.hotFunctions[1].line = '12; process.exit()';
  t.deepEqual(parseProfile(JSON.stringify(p)), { ok: false, reason: 'hot function #2 is malformed' });
  for (const deopts of [-1, '1', null, Infinity]) {
    const d = profileOf([{ selfSamples: 1 }]) as any;
    d.hotFunctions[0].deopts = deopts;
    t.deepEqual(parseProfile(JSON.stringify(d)), { ok: false, reason: 'hot function #1 is malformed' }, `deopts: ${String(deopts)}`);
  }
  const marked = profileOf([{ selfSamples: 1 }]);
  marked.hotFunctions[0]!.deopts = 1.5;
  t.deepEqual(parseProfile(serializeProfile(marked)), { ok: true, profile: marked });
  const q = profileOf([]) as any;
  q.samples = { busy: -1 };
  t.regex((parseProfile(JSON.stringify(q)) as { reason: string }).reason, /"samples"/);
});

test('a __proto__ key in a profile does not reach any prototype', (t) => {
  const text = serializeProfile(profileOf([{ selfSamples: 1 }])).replace('"tool"', '"__proto__": {"polluted": true}, "tool"');
  const parsed = parseProfile(text);
  t.true(parsed.ok);
  t.is(({} as any).polluted, undefined);
});
