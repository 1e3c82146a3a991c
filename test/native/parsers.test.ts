import test from 'ava';
import type { NativeSample } from '../../src/native/native-sample';
import { NativeProfileBuilder } from '../../src/native/native-model';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PerfMap, PerfMapTail } from '../../src/native/perf-map';
import { tempDir } from '../helpers/run';
import { PerfScriptParser } from '../../src/native/perf-script';
import { symbolTable } from '../../src/native/cpp-symbols';
import { TickLogParser } from '../../src/native/tick-log';

// Two samples as `perf script -F comm,pid,tid,ip,sym,dso` prints them (taken on Node 20), and one
// from a V8 helper thread.
const PERF_SCRIPT = `node  1972/1972  
\t         15a1c0b v8::internal::StringTable::Data::TryStringToIndexOrLookupExisting<unsigned char> (/usr/bin/node)
\t         14d5c38 Builtins_KeyedLoadIC_Megamorphic (/usr/bin/node)
\t    7f20af7e6381 JS:*countEvents /work/app/counters.js:3:21 (/tmp/perf-1972.map)
\t    7f20af7e25dc JS:~ /work/app/counters.js:1:1 (/tmp/perf-1972.map)
\t          86853f node::Start (/usr/bin/node)

node  1972/1972  
\t    7f20af7e6409 JS:*countEvents /work/app/counters.js:3:21 (/tmp/perf-1972.map)
\t    7f20af7e25dc JS:~ /work/app/counters.js:1:1 (/tmp/perf-1972.map)

node  1972/1980  
\t          f1bafd v8::internal::ConcurrentMarking::RunMajor (/usr/bin/node)
\t                 0 [unknown] ([unknown])
`;

test('perf script output becomes samples, leaf first, with JIT frames named by the perf map', (t) => {
  const samples: NativeSample[] = [];
  const parser = new PerfScriptParser((s) => samples.push(s));
  for (const line of PERF_SCRIPT.split('\n')) parser.line(line);
  parser.end();
  t.is(samples.length, 3);
  t.deepEqual(
    samples[0]!.frames.map((f) => [f.kind, f.name]),
    [
      ['native', 'v8::internal::StringTable::Data::TryStringToIndexOrLookupExisting<unsigned char>'],
      ['native', 'Builtins_KeyedLoadIC_Megamorphic'],
      ['js', 'countEvents'],
      ['js', ''],
      ['native', 'node::Start'],
    ],
  );
  t.is(samples[0]!.frames[2]!.url, 'file:///work/app/counters.js');
  t.true(samples[0]!.mainThread);
  t.false(samples[2]!.mainThread);
  t.deepEqual([...parser.pids], [1972]);
});

test('native cost is charged to the nearest JavaScript frame, by category', (t) => {
  const builder = new NativeProfileBuilder(1000);
  const parser = new PerfScriptParser((s) => builder.add(s));
  for (const line of PERF_SCRIPT.split('\n')) parser.line(line);
  parser.end();
  const p = builder.result();
  t.is(p.mainSamples, 2);
  t.is(p.otherSamples, 1);
  t.deepEqual(p.totals, { 'string-table': 1, js: 1 });
  t.is(p.functions[0]!.name, 'countEvents');
  t.deepEqual(p.functions[0]!.categories, { 'string-table': 1, js: 1 });
  // The stack model keeps every frame, native ones tagged with their category.
  const names = p.model.frames.map((f) => `${f.name}:${f.category ?? f.kind}`);
  t.true(names.includes('Builtins_KeyedLoadIC_Megamorphic:megamorphic-ic'), names.join(', '));
  t.true(names.includes('v8::internal::ConcurrentMarking::RunMajor:gc'));
  t.is(p.model.totalSamples, 3);
});

// A tick log as node --prof writes it, cut down: the node binary, a function readSetting whose
// optimized code inlines parseNumber (code-source-info's inlining table), their script, and ticks.
const SOURCE = ["'use strict';", 'function parseNumber(text) {', '  const n = Number(text);', "  if (Number.isNaN(n)) throw new TypeError('nan');", '  return n;', '}', 'function readSetting(t) {', '  try { return parseNumber(t); } catch { return t; }', '}'].join('\\n');
const offsetOf = (s: string) => SOURCE.replace(/\\n/g, '\n').indexOf(s);
const TICK_LOG = [
  'v8-version,11,3,244,8,-node.38,0',
  'shared-library,/usr/bin/node,0x400000,0x2601000,0',
  'code-creation,Builtin,2,100,0x18c4000,768,ErrorConstructor',
  `script-source,81,/app/settings.js,${SOURCE.replace(/,/g, '\\x2C')}`,
  'code-creation,JS,10,200,0x2921d914c6c6,50,parseNumber /app/settings.js:2:21,0x2921d914b6b8,~',
  'code-creation,JS,13,300,0x7f790ef874c0,560,readSetting /app/settings.js:7:21,0x2921d914b708,*',
  // pc 0..99 → readSetting's own try line; pc 100.. → parseNumber's throw, inlined (I0).
  `code-source-info,0x7f790ef874c0,81,${offsetOf('function readSetting')},${SOURCE.length},C0O${offsetOf('try {')}C100O${offsetOf('throw new')}I0,F0O${offsetOf('parseNumber(t)')},S0x2921d914b6b8`,
  // A tick in C++ (the error constructor builtin) called from the inlined throw.
  'tick,0x18c4010,1000,0,0x0,0,0x7f790ef87530',
  // A tick in readSetting's own code.
  'tick,0x7f790ef874d0,2000,0,0x0,0',
  // GC state, and a pc the log has no code for.
  'tick,0x1234,3000,0,0x0,1',
  // In the node binary's C++, below readSetting's code.
  'tick,0x1000010,3500,0,0x0,6,0x7f790ef874d0',
  'code-move,0x7f790ef874c0,0x7f790ef90000',
  'tick,0x7f790ef90010,4000,0,0x0,0',
];

test('tick logs resolve builtins, C++ symbols, JIT code, inlined functions and lines', (t) => {
  const samples: NativeSample[] = [];
  const nm = '0000000001000000 0000000000000100 T v8::internal::Isolate::Throw(v8::internal::Object, v8::internal::MessageLocation*)\n';
  const parser = new TickLogParser((s) => samples.push(s), (file, slide) => (file === '/usr/bin/node' ? symbolTable(nm, slide) : null));
  for (const line of TICK_LOG) parser.line(line);
  t.is(samples.length, 5);
  const [first, second, third, cpp, fourth] = samples;
  t.deepEqual(cpp!.frames.map((f) => f.name), ['v8::internal::Isolate::Throw', 'readSetting']);
  t.deepEqual(
    first!.frames.map((f) => [f.name, f.sourceLine ?? 0]),
    [
      ['Builtins_ErrorConstructor', 0],
      ['parseNumber', 4],
      ['readSetting', 8],
    ],
  );
  t.is(first!.frames[1]!.url, 'file:///app/settings.js');
  t.deepEqual(second!.frames.map((f) => [f.name, f.sourceLine ?? 0]), [['readSetting', 8]]);
  t.deepEqual(third!.frames.map((f) => f.name), ['(garbage collector)', '[unknown]']);
  // After a code move the code is found at its new address.
  t.is(fourth!.frames[0]!.name, 'readSetting');
});

test('symbol tables find the function an address falls in, and nothing past a sized symbol', (t) => {
  const table = symbolTable('0000000000001000 0000000000000010 T first()\n0000000000002000 T second(int)\nbogus line\n', 0x400000);
  t.is(table.lookup(0x401008), 'first');
  t.is(table.lookup(0x401010), null);
  t.is(table.lookup(0x402abc), 'second');
  t.is(table.lookup(0x400500), null);
});

test('perf maps name reused code addresses after the latest code written there', (t) => {
  const map = new PerfMap(
    [
      '7f0000001000 200 JS:~old /app/a.js:1:1',
      '7f0000002000 80 JS:*steady /app/a.js:5:1',
      // Later, V8 wrote new code over part of the old range.
      '7f0000001100 40 JS:*hot /app/a.js:9:1',
      'not a map line',
    ].join('\n'),
  );
  t.is(map.lookup(0x7f0000001010), 'JS:~old /app/a.js:1:1');
  t.is(map.lookup(0x7f0000001120), 'JS:*hot /app/a.js:9:1');
  t.is(map.lookup(0x7f0000002050), 'JS:*steady /app/a.js:5:1');
  t.is(map.lookup(0x7f0000002080), null);
  t.is(map.lookup(0x10), null);
});

test('with write times, a sample takes the name written before it, not code written there later', (t) => {
  // tally's code at 0x1000 from t=1s; at t=9s (exit) V8 collected it and wrote pathToFileURL there.
  const text = ['1000 400 JS:*tally /app/a.js:5:1', '1000 80 JS:*pathToFileURL node:url:1017:1', ''].join('\n');
  const map = new PerfMap(text, [1e9, 9e9]);
  t.is(map.lookup(0x1010, 5e9), 'JS:*tally /app/a.js:5:1');
  t.is(map.lookup(0x1010, 9.5e9), 'JS:*pathToFileURL node:url:1017:1');
  t.is(map.lookup(0x1200, 9.5e9), 'JS:*tally /app/a.js:5:1');
  // A sample in code written within the last poll: the earliest name there.
  t.is(map.lookup(0x1010, 0.5e9), 'JS:*tally /app/a.js:5:1');
});

test('perf script headers with times give each JIT lookup its sample time', (t) => {
  const seen: [number, number, number][] = [];
  const parser = new PerfScriptParser(
    () => {},
    (pid, address, time) => {
      seen.push([pid, address, time]);
      return null;
    },
  );
  for (const line of ['node 7/7 6334.712579304: ', '\t    7f20af7e6381 JS:*f /a.js:1:1 (/tmp/perf-7.map)', '']) parser.line(line);
  t.deepEqual(seen, [[7, 0x7f20af7e6381, 6334712579304]]);
});

test('the perf-map tail stamps lines when they appear, whole lines only', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, `perf-${process.pid}.map`);
  fs.writeFileSync(file, '1000 400 JS:*old /a.js:1:1\n2000 40 JS:*half');
  const tail = new PerfMapTail(dir);
  tail.start(process.pid, 5);
  await new Promise((r) => setTimeout(r, 60));
  const between = Number(process.hrtime.bigint());
  fs.appendFileSync(file, ' /a.js:2:1\n1000 80 JS:*new /a.js:3:1\n');
  await new Promise((r) => setTimeout(r, 60));
  tail.stop();
  const map = tail.mapFor(process.pid)!;
  t.is(map.lookup(0x1010, between), 'JS:*old /a.js:1:1');
  t.is(map.lookup(0x1010, Number(process.hrtime.bigint())), 'JS:*new /a.js:3:1');
  t.is(map.lookup(0x2010, Number(process.hrtime.bigint())), 'JS:*half /a.js:2:1');
});
