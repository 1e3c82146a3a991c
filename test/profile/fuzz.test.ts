import test from 'ava';
import * as fc from 'fast-check';
import { mergeGenerations, mergeInstances, nextGeneration, rank } from '../../src/profile/merge';
import { parseProfile } from '../../src/profile/schema';
import { serializeProfile } from '../../src/profile/store';
import { edit, mutate, seedProfile } from '../helpers/mutate-profile';

/** A few hundred cases by default; CI sets PREHEAT_FUZZ_RUNS for more. */
const numRuns = Number(process.env.PREHEAT_FUZZ_RUNS) || 300;

function unpolluted(): boolean {
  const probe = {} as Record<string, unknown>;
  return probe.polluted === undefined && Object.getPrototypeOf(probe) === Object.prototype && !('polluted' in Object.prototype);
}

test('the seed of the mutations is a valid profile', (t) => {
  t.true(parseProfile(mutate([])).ok);
});

test('mutated profile.json texts parse to a clean result or a clean "bad", and what parses merges without throwing or polluting', (t) => {
  // CI's thousands of runs take longer than ava's default 2 minutes without a result.
  t.timeout(Math.max(120_000, numRuns * 250));
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
      const text = mutate(edits);
      const parsed = parseProfile(text);
      if (!unpolluted()) return false;
      if (!parsed.ok) return typeof parsed.reason === 'string' && parsed.reason.length > 0;
      const p = parsed.profile;
      // Only known fields come through, in fresh objects.
      if (Object.keys(p).some((k) => !['schemaVersion', 'tool', 'preheatVersion', 'node', 'v8', 'appRoot', 'generation', 'createdAt', 'updatedAt', 'sampleIntervalMicros', 'samples', 'hotFunctions', 'requests', 'instances'].includes(k))) return false;
      const seed = seedProfile();
      const outputs = [
        mergeInstances([p, seed], 500, new Date(0), 200),
        mergeGenerations([p, { ...seed, generation: 3 }], 0.5, 500, 200),
        mergeGenerations([p], 1, 10, 5),
        nextGeneration(p, seed, 0.5, 500, 200),
        nextGeneration(seed, p, 0.5, 500, 200),
        rank(p, 3),
      ];
      for (const out of outputs) {
        // What the agent would write back is again a valid profile.
        if (!parseProfile(serializeProfile(out)).ok) return false;
      }
      return unpolluted();
    }),
    { numRuns },
  );
  t.true(unpolluted());
});

test('a profile whose hot functions and request headers carry prototype keys pollutes nothing', (t) => {
  const text = JSON.stringify(seedProfile())
    .replace('"name":"search"', '"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"name":"search"')
    .replace('"accept":"application/json"', '"accept":"application/json","__proto__":"x"');
  const parsed = parseProfile(text);
  t.false(parsed.ok, 'a __proto__ header name is refused');
  const withoutHeader = parseProfile(text.replace(',"__proto__":"x"', ''));
  t.true(withoutHeader.ok);
  const p = (withoutHeader as { profile: ReturnType<typeof seedProfile> }).profile;
  t.false(Object.prototype.hasOwnProperty.call(p.hotFunctions[0], '__proto__'));
  mergeInstances([p, p], 500);
  t.true(unpolluted());
});
