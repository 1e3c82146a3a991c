import test from 'ava';
import type { Finding } from '../../src/analysis/finding';
import { withNativeEvidence } from '../../src/native/native-evidence';
import { NativeProfileBuilder } from '../../src/native/native-model';
import type { NativeFrame } from '../../src/native/native-sample';
import { childFor, emptyModel, type Frame } from '../../src/profile/stack-model';

const url = 'file:///app/app.js';
const js = (name: string, line: number): NativeFrame => ({ name, kind: 'js', url, line, column: 10 });
const native = (name: string): NativeFrame => ({ name, kind: 'native', url: 'node', line: 0, column: 0 });

/** A JS-level model with `lookup` (hot, under `main`) and `parse` (hot, its own frame). */
function jsModel() {
  const model = emptyModel();
  const frame = (name: string, line: number) => model.frames.push({ name, url, line, column: 10, kind: 'js' } as Frame) - 1;
  const main = childFor(model, 0, frame('main', 1));
  const lookup = childFor(model, main, frame('lookup', 5));
  const parse = childFor(model, main, frame('parse', 9));
  model.nodes[lookup]!.self = 50;
  model.nodes[parse]!.self = 50;
  model.totalSamples = 100;
  return { model, lookupFrame: model.nodes[lookup]!.frame, parseFrame: model.nodes[parse]!.frame };
}

const finding = (kind: Finding['kind'], fn: string, frame: number, share: number): Finding => ({ kind, function: fn, file: 'app.js', line: 1, share, evidence: 'JS evidence.', advice: 'a', frame });

test('findings gain the measured categories of their function, and say when they are not confirmed', (t) => {
  const { model, lookupFrame, parseFrame } = jsModel();
  const b = new NativeProfileBuilder(1000);
  // lookup: 40 samples building errors, 10 in its own code; parse: 50 in JSON, none in the string table.
  for (let i = 0; i < 40; i++) b.add({ frames: [native('v8::internal::ErrorUtils::Construct'), js('lookup', 5), js('main', 1)], mainThread: true });
  for (let i = 0; i < 10; i++) b.add({ frames: [js('lookup', 5), js('main', 1)], mainThread: true });
  for (let i = 0; i < 50; i++) b.add({ frames: [native('v8::internal::JsonParser<unsigned char>::ParseJsonValue'), js('parse', 9), js('main', 1)], mainThread: true });
  const profile = b.result();
  const out = withNativeEvidence([finding('string-interning', 'parse', parseFrame, 0.5), finding('exception-control-flow', 'lookup', lookupFrame, 0.4)], model, profile, 'perf');

  // The contradicted finding goes last, though its share is bigger.
  t.deepEqual(out.map((f) => [f.function, f.native!.confirmed]), [['lookup', true], ['parse', false]]);
  t.deepEqual(out[0]!.native!.function, { exceptions: 0.8, js: 0.2 });
  t.is(out[0]!.native!.samples, 50);
  t.is(out[0]!.native!.program.exceptions, 0.4);
  t.regex(out[0]!.evidence, /^JS evidence\. Native frames \(perf\): of the 50 samples with lookup as the nearest JavaScript frame, 80% exceptions; of all 100 main-thread samples, 40% in exceptions\.$/);
  t.regex(out[1]!.evidence, /Native frames \(perf\) do not confirm this: of the 50 samples with parse/);
  // Frames now point into the native model, whose graph is drawn.
  t.is(profile.model.frames[out[0]!.frame]!.name, 'lookup');
});

test('a function V8 inlined is measured with the caller it was compiled into', (t) => {
  const { model, lookupFrame } = jsModel();
  const b = new NativeProfileBuilder(1000);
  // The CPU profile gives lookup half the samples; perf sees it in its own frame twice only.
  for (let i = 0; i < 2; i++) b.add({ frames: [native('v8::internal::Isolate::Throw'), js('lookup', 5), js('main', 1)], mainThread: true });
  for (let i = 0; i < 48; i++) b.add({ frames: [native('v8::internal::Isolate::Throw'), js('main', 1)], mainThread: true });
  for (let i = 0; i < 50; i++) b.add({ frames: [js('main', 1)], mainThread: true });
  const [out] = withNativeEvidence([finding('exception-control-flow', 'lookup', lookupFrame, 0.5)], model, b.result(), 'v8-tick-log');
  t.is(out!.native!.inlinedInto, 'main');
  t.is(out!.native!.samples, 100);
  t.is(out!.native!.function.exceptions, 0.5);
  t.regex(out!.evidence, /of the 100 samples with lookup or main \(which V8 inlined it into\) as the nearest JavaScript frame, 50% exceptions/);
});

test('a suspected built-in throw is dropped where the native frames refute it, kept and unmarked where they confirm it', (t) => {
  const { model, lookupFrame, parseFrame } = jsModel();
  const suspicion = (fn: string, frame: number): Finding => ({ ...finding('exception-control-flow', fn, frame, 0.5), confirmed: false });
  const confirmedOnly = new NativeProfileBuilder(1000);
  for (let i = 0; i < 200; i++) confirmedOnly.add({ frames: [native('v8::internal::Isolate::Throw'), js('lookup', 5), js('main', 1)], mainThread: true });
  const [confirmed] = withNativeEvidence([suspicion('lookup', lookupFrame)], model, confirmedOnly.result(), 'perf');
  t.is(confirmed!.native!.confirmed, true);
  t.is(confirmed!.confirmed, undefined, 'measured: no longer marked unconfirmed');

  // V8 inlined parse away (too few frames of its own to judge): the whole main thread decides.
  const inlined = (throwing: number) => {
    const p = new NativeProfileBuilder(1000);
    for (let i = 0; i < 3; i++) p.add({ frames: [js('parse', 9), js('main', 1)], mainThread: true });
    // The rest runs in a function the CPU profile never linked to parse: no caller to measure it by.
    for (let i = 0; i < 300 - throwing; i++) p.add({ frames: [native('v8::internal::JsonParser<unsigned char>::ParseJsonValue'), js('other', 20)], mainThread: true });
    for (let i = 0; i < throwing; i++) p.add({ frames: [native('v8::internal::Isolate::Throw'), js('other', 20)], mainThread: true });
    return withNativeEvidence([suspicion('parse', parseFrame)], model, p.result(), 'perf');
  };
  t.deepEqual(inlined(0), [], 'no exceptions anywhere: refuted');
  // A built-in that throws late (JSON.stringify of a cyclic record, structuredClone of a large
  // object) spends nearly all its time before the throw: a few samples of exceptions are enough.
  t.deepEqual(inlined(2), [], 'two stray samples of exceptions are noise: refuted');
  t.is(inlined(5).length, 1, 'five samples, under 2% beside a 50% suspicion: not refuted');
  t.is(inlined(9).length, 1, '3% in exceptions: not refuted');
  // A built-in written in JavaScript (new URL, atob) throws from Node's own function, perf's
  // nearest JavaScript frame: the function's own frames show none, the thread's do.
  const viaNode = new NativeProfileBuilder(1000);
  for (let i = 0; i < 100; i++) viaNode.add({ frames: [js('parse', 9), js('main', 1)], mainThread: true });
  for (let i = 0; i < 100; i++) viaNode.add({ frames: [native('v8::internal::Isolate::Throw'), { name: 'URL', kind: 'js', url: 'node:internal/url', line: 700, column: 3 }, js('parse', 9)], mainThread: true });
  const thrownInNode = withNativeEvidence([suspicion('parse', parseFrame)], model, viaNode.result(), 'perf');
  t.is(thrownInNode.length, 1, 'thrown from Node\'s own JavaScript: kept');
  const kept = inlined(30);
  t.is(kept.length, 1, 'exceptions at a fifth of the suspicion\'s share somewhere: kept, unjudged');
  t.is(kept[0]!.native!.confirmed, null);
  t.is(kept[0]!.confirmed, false);
});
