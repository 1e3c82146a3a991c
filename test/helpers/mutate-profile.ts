import * as fc from 'fast-check';
import type { WarmupProfile } from '../../src/profile/schema';
import { profileOf } from './profiles';

/**
 * Mutated profile.json texts for fuzzing: a valid profile, then a few edits at random places,
 * each a raw JSON chunk (so that keys such as `__proto__` and numbers JSON.stringify cannot write,
 * such as 1e999, reach the parser as they would from a file).
 */

/** A valid profile with requests, the seed every mutation starts from. */
export function seedProfile(): WarmupProfile {
  return {
    ...profileOf([
      { name: 'search', file: 'lib/search.js', selfSamples: 40, totalSamples: 90 },
      { name: 'tokenize', file: 'lib/tokenize.js', selfSamples: 30, totalSamples: 30, sourceHash: null },
      { name: '', file: 'node:internal/x', selfSamples: 5, totalSamples: 5 },
    ]),
    requests: [
      { method: 'GET', url: '/search?q=a', headers: { accept: 'application/json' }, count: 3 },
      { method: 'POST', url: '/items', headers: { 'content-type': 'application/json' }, body: '{"a":1}', count: 1 },
    ],
    instances: ['host_1_abc_0123456789ab'],
  };
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

/** Raw JSON values that a parser of untrusted input has to survive. */
export const rawValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'null', 'true', 'false', '0', '-0', '-1', '1.5', '1e999', '-1e999', '1e-400', '9007199254740993', '2147483648',
    '"NaN"', '"Infinity"', '""', '"x"', '[]', '{}', '[null]', '{"length": 1e9}',
    '{"__proto__": {"polluted": true}}', '{"constructor": {"prototype": {"polluted": true}}}',
    '"\\u0000\\u001b[31m\\r\\n\\u2028"', '"../../../../etc/passwd"', '"/\\r\\nX-Injected: 1"',
  ),
  fc.integer({ min: 1, max: 100_000 }).map(deep),
  fc.integer({ min: 1, max: 5_000 }).map(deepObject),
  fc.integer({ min: 0, max: 200_000 }).map((n) => `[${Array.from({ length: n }, () => '0').join(',')}]`),
  fc.integer({ min: 0, max: 2_000 }).map((n) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ name: `f${i}`, file: 'a.js', line: 1, column: 1, sourceHash: null, selfSamples: 1, totalSamples: 1, share: 0, totalShare: 0 })))),
  fc.string({ maxLength: 40 }).map((s) => JSON.stringify(s)),
  fc.double().map((d) => (Number.isFinite(d) ? String(d) : '1e999')),
);

/** Keys to add next to the existing ones. */
export const rawKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'schemaVersion', 'tool', 'hotFunctions', '');

type Edit = { kind: 'set'; at: number; value: string } | { kind: 'add'; at: number; key: string; value: string } | { kind: 'drop'; at: number } | { kind: 'cut'; at: number };

export const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: rawValue }),
  fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key: rawKey, value: rawValue }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

/** Applies edits to the seed and returns the text a reader would find in the file. */
export function mutate(edits: Edit[], seed: WarmupProfile = seedProfile()): string {
  const tree = JSON.parse(JSON.stringify(seed)) as unknown;
  const raws: string[] = [];
  const placeholder = (raw: string) => `\u0000RAW${raws.push(raw) - 1}\u0000`;
  let cut: number | null = null;
  for (const e of edits) {
    if (e.kind === 'cut') {
      cut = e.at;
      continue;
    }
    const nodes = containers(tree);
    const node = nodes[e.at % nodes.length]!;
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (e.kind === 'add' && !Array.isArray(node)) {
      (node as Record<string, unknown>)[placeholder(JSON.stringify(e.key))] = placeholder(e.value);
      continue;
    }
    if (keys.length === 0) continue;
    const key = keys[e.at % keys.length]!;
    if (e.kind === 'drop') {
      if (Array.isArray(node)) node.splice(key as number, 1);
      else delete (node as Record<string, unknown>)[key as string];
    } else if (e.kind === 'set') {
      (node as Record<string | number, unknown>)[key] = placeholder(e.value);
    }
  }
  let text = JSON.stringify(tree);
  // A placeholder went through JSON.stringify as a string: put the raw chunk in its place.
  text = text.replace(/"\\u0000RAW(\d+)\\u0000"/g, (_, i: string) => raws[Number(i)]!);
  return cut === null ? text : text.slice(0, cut % (text.length + 1));
}

function containers(tree: unknown): (unknown[] | Record<string, unknown>)[] {
  const out: (unknown[] | Record<string, unknown>)[] = [];
  const walk = (v: unknown) => {
    if (typeof v !== 'object' || v === null) return;
    out.push(v as unknown[] | Record<string, unknown>);
    for (const child of Object.values(v)) walk(child);
  };
  walk(tree);
  return out;
}
