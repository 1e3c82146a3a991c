import test from 'ava';
import * as fs from 'node:fs';
import { Session } from 'node:inspector';
import { pathToFileURL } from 'node:url';
import type { CpuProfile } from '../../src/profile/cpuprofile';
import { functionHash, indexSource } from '../../src/profile/source-hash';
import { fixture } from '../helpers/run';

const file = fixture('sources', 'function-forms.js');

/** Profiles the fixture in this process with the real V8, to learn the positions V8 reports. */
function profileFixture(): CpuProfile {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runAll = require(file) as (n: number) => void;
  const session = new Session();
  session.connect();
  let profile: CpuProfile | undefined;
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 100 });
  session.post('Profiler.start');
  for (let i = 0; i < 300; i++) runAll(20000);
  session.post('Profiler.stop', (_e, r) => (profile = (r as { profile: CpuProfile }).profile));
  session.disconnect();
  return profile!;
}

test('every function V8 reports in a file is found by its reported position', (t) => {
  const url = pathToFileURL(file).href;
  const index = indexSource(fs.readFileSync(file, 'utf8'))!;
  t.truthy(index);
  const frames = profileFixture().nodes.filter((n) => n.callFrame.url === url);
  const names = new Set(frames.map((n) => n.callFrame.functionName));
  // The sampler must have seen a good part of the forms for this test to mean anything.
  t.true(names.size >= 8, `only saw ${[...names].join(', ')}`);
  for (const n of frames) {
    const { lineNumber, columnNumber, functionName } = n.callFrame;
    t.truthy(functionHash(index, lineNumber + 1, columnNumber + 1), `no function at ${functionName} ${lineNumber + 1}:${columnNumber + 1}`);
  }
});

test('the hash changes with the function body and only with it', (t) => {
  const a = 'function a(x) { return x + 1; }\nfunction b(y) { return y * 2; }\n';
  const edited = 'function a(x) { return x + 2; }\nfunction b(y) { return y * 2; }\n';
  const moved = '\n\nfunction a(x) { return x + 1; }\nfunction b(y) { return y * 2; }\n';
  const [ia, ie, im] = [indexSource(a)!, indexSource(edited)!, indexSource(moved)!];
  t.not(functionHash(ia, 1, 11), functionHash(ie, 1, 11));
  t.is(functionHash(ia, 2, 11), functionHash(ie, 2, 11));
  // Same text at another place: the same hash (the position is part of the key, not of the hash).
  t.is(functionHash(ia, 1, 11), functionHash(im, 3, 11));
  t.regex(functionHash(ia, 1, 11)!, /^sha256:[0-9a-f]{16}$/);
});

test('positions without a function and unparsable sources give null', (t) => {
  const index = indexSource('const x = 1;\nfunction f() {}\n')!;
  t.is(functionHash(index, 1, 1), null);
  t.is(functionHash(index, 99, 1), null);
  t.is(indexSource('const x: number = 1; function f(a: string) {}'), null);
});

test('ES modules and hashbang scripts parse', (t) => {
  t.truthy(indexSource('#!/usr/bin/env node\nexport function f(a) { return a; }\nawait f(1);\n'));
  t.truthy(indexSource('return 1;\n'));
});
