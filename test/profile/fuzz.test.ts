import test from 'ava';
import * as fc from 'fast-check';
import { mergeGenerations, mergeInstances, nextGeneration, rank } from '../../src/profile/merge';
import { MAX_COUNT, parseProfile } from '../../src/profile/schema';
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

test('counts past what a profile may hold are refused, and merges of the largest ones still parse', (t) => {
  const seed = seedProfile();
  // Found by this file's fuzzing: 1.8e304 busy-free gc samples parsed, and rounding overflowed.
  t.false(parseProfile(JSON.stringify({ ...seed, samples: { ...seed.samples, gc: 1.797693134862316e304 } })).ok);
  const huge = { ...seed, samples: { busy: MAX_COUNT, gc: MAX_COUNT, program: 1e-9, native: 0 } };
  huge.hotFunctions = seed.hotFunctions.map((f) => ({ ...f, selfSamples: MAX_COUNT, totalSamples: MAX_COUNT }));
  const parsed = parseProfile(JSON.stringify(huge));
  t.true(parsed.ok);
  const p = (parsed as { profile: ReturnType<typeof seedProfile> }).profile;
  const tiny = { ...p, samples: { ...p.samples, busy: 1e-9 } };
  for (const out of [mergeInstances([p, p, p], 500), mergeGenerations([p, { ...p, generation: p.generation + 1 }], 0.5, 500), rank(tiny, 3)]) {
    const again = parseProfile(serializeProfile(out));
    t.true(again.ok, (again as { reason?: string }).reason);
    t.true(out.samples.busy <= MAX_COUNT && out.hotFunctions.every((f) => f.share <= MAX_COUNT && f.selfSamples <= MAX_COUNT));
  }
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
