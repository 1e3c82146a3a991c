import test from 'ava';
import { classifyNative, segmentCategory, type NativeCategory } from '../../src/native/categories';
import { parseJsSymbol, stripParameters } from '../../src/native/native-sample';

// Symbols as perf and nm name them in the official Node 20–26 binaries (V8 11.3–14.6).
const cases: [string, NativeCategory][] = [
  ['v8::internal::StringTable::Data::TryStringToIndexOrLookupExisting<unsigned char>', 'string-table'],
  ['v8::internal::StringTable::Data::FindEntry<v8::internal::Isolate, v8::internal::SequentialStringKey<unsigned char> >', 'string-table'],
  ['v8::internal::String::WriteToFlat<unsigned char>', 'string-table'],
  ['v8::internal::String::SlowFlatten', 'string-table'],
  ['Builtins_StringAdd_CheckNone', 'string-table'],
  ['Builtins_KeyedLoadIC_Megamorphic', 'megamorphic-ic'],
  ['Builtins_KeyedStoreIC_Megamorphic', 'megamorphic-ic'],
  ['v8::internal::HashTable<v8::internal::NameDictionary, v8::internal::NameDictionaryShape>::Rehash', 'megamorphic-ic'],
  ['v8::internal::Isolate::Throw', 'exceptions'],
  ['v8::internal::ErrorUtils::Construct', 'exceptions'],
  ['v8::internal::Isolate::CaptureSimpleStackTrace', 'exceptions'],
  ['v8::internal::(anonymous namespace)::VisitStack<v8::internal::(anonymous namespace)::CallSiteBuilder>', 'exceptions'],
  ['v8::internal::Runtime_UnwindAndFindExceptionHandler', 'exceptions'],
  ['Builtins_ErrorConstructor', 'exceptions'],
  ['v8::internal::Factory::NewSyntaxError', 'exceptions'],
  ['v8::internal::TranslatedState::Init', 'deopt'],
  ['v8::internal::Deoptimizer::DoComputeOutputFrames', 'deopt'],
  ['Builtins_DeoptimizationEntry_Eager', 'deopt'],
  ['v8::internal::Heap::Scavenge', 'gc'],
  ['v8::internal::ConcurrentMarking::RunMajor', 'gc'],
  ['v8::internal::MarkCompactCollector::CollectGarbage', 'gc'],
  ['(garbage collector)', 'gc'],
  ['v8::internal::JsonParser<unsigned char>::ParseJsonValue', 'json'],
  ['v8::internal::JsonStringifier::Serialize_<false>', 'json'],
  ['Builtins_RegExpPrototypeExec', 'regexp'],
  ['v8::internal::RegExpImpl::IrregexpExec', 'regexp'],
  ['v8::internal::maglev::MaglevCompiler::Compile', 'compiler'],
  ['v8::internal::compiler::PipelineImpl::OptimizeGraph', 'compiler'],
  ['Builtins_InterpreterEntryTrampoline', 'interpreter'],
  ['Builtins_LdaNamedPropertyHandler', 'interpreter'],
  ['v8::sampler::SignalHandler::HandleProfilerSignal', 'profiler'],
  ['__memmove_avx_unaligned_erms', 'runtime'],
  ['node::fs::Read', 'runtime'],
];

for (const [symbol, expected] of cases) {
  test(`classifies ${symbol}`, (t) => {
    t.is(classifyNative(symbol), expected);
  });
}

test('kernel frames are kernel, whatever their name', (t) => {
  t.is(classifyNative('clear_page_erms', '[kernel.kallsyms]'), 'kernel');
  t.is(classifyNative('do_syscall_64', ''), 'kernel');
});

test('a sample takes the category that explains it', (t) => {
  // A string-table probe inside a megamorphic keyed load is string interning.
  t.is(segmentCategory(['string-table', 'megamorphic-ic']), 'string-table');
  // A string built while an error message is formatted is an exception cost.
  t.is(segmentCategory(['string-table', 'runtime', 'exceptions']), 'exceptions');
  // An error built inside JSON.parse is an exception cost, so is a stack capture's frame summary.
  t.is(segmentCategory(['runtime', 'exceptions', 'json']), 'exceptions');
  t.is(segmentCategory(['deopt', 'exceptions']), 'exceptions');
  t.is(segmentCategory(['deopt', 'json']), 'json');
  // GC wins wherever it is: its cost is its own, whoever allocated.
  t.is(segmentCategory(['gc', 'runtime', 'exceptions']), 'gc');
  // malloc under a runtime function stays runtime; the kernel under a page fault is kernel.
  t.is(segmentCategory(['runtime', 'runtime']), 'runtime');
  t.is(segmentCategory(['kernel', 'runtime']), 'kernel');
  t.is(segmentCategory(['runtime', 'interpreter']), 'interpreter');
});

test('perf-map names from V8 11.3 to 14.6 parse to the same function', (t) => {
  for (const marker of ['~', '^', '+', '*', 'o+', 'o*', "+'", "*'"]) {
    const f = parseJsSymbol(`JS:${marker}countEvents /app/lib/count.js:3:21`);
    t.deepEqual(f, { name: 'countEvents', kind: 'js', url: 'file:///app/lib/count.js', line: 3, column: 21, tier: marker }, marker);
  }
  // A name that begins with "o" keeps it; ES modules are URLs already; top-level code has no name.
  t.is(parseJsSymbol('JS:*onRequest file:///srv/app.mjs:10:3')!.name, 'onRequest');
  t.is(parseJsSymbol('JS:*onRequest file:///srv/app.mjs:10:3')!.url, 'file:///srv/app.mjs');
  t.is(parseJsSymbol('JS:~ /srv/app.js:1:1')!.name, '');
  t.is(parseJsSymbol('JS:~Module._load node:internal/modules/cjs/loader:1003:24')!.url, 'node:internal/modules/cjs/loader');
  t.is(parseJsSymbol('Builtins_KeyedLoadIC_Megamorphic'), null);
});

test('nm names lose return types and parameters, as perf shows them', (t) => {
  t.is(
    stripParameters('v8::internal::InternalIndex v8::internal::StringTable::Data::FindEntry<v8::internal::Isolate, v8::internal::SequentialStringKey<unsigned char> >(v8::internal::Isolate*, unsigned int) const'),
    'v8::internal::StringTable::Data::FindEntry<v8::internal::Isolate, v8::internal::SequentialStringKey<unsigned char> >',
  );
  t.is(stripParameters('v8::internal::(anonymous namespace)::Invoke(v8::internal::Isolate*)'), 'v8::internal::(anonymous namespace)::Invoke');
  t.is(stripParameters('operator delete(void*)'), 'operator delete');
  t.is(stripParameters('v8::internal::Foo::operator()(int) const'), 'v8::internal::Foo::operator()');
  t.is(stripParameters('Builtins_KeyedLoadIC_Megamorphic'), 'Builtins_KeyedLoadIC_Megamorphic');
});
