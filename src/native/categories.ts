/**
 * Cost categories for the frames the in-process sampler cannot see: V8's runtime, its builtins and
 * libc. Each is a family of symbols that means one kind of waste; the names differ across V8
 * 11.3–14.6 (docs/v8.md, "Native frames"), so the patterns match the stable parts only.
 */
export type NativeCategory =
  | 'exceptions'
  | 'string-table'
  | 'megamorphic-ic'
  | 'deopt'
  | 'gc'
  | 'regexp'
  | 'json'
  | 'compiler'
  | 'interpreter'
  | 'runtime'
  | 'kernel'
  | 'profiler';

/** The categories a finding's evidence names, in the order they are worth reading. */
export const COST_CATEGORIES: readonly NativeCategory[] = ['exceptions', 'string-table', 'megamorphic-ic', 'deopt', 'gc', 'regexp', 'json'];

export const CATEGORY_LABELS: Record<NativeCategory, string> = {
  exceptions: 'exceptions (throw, error construction, stack capture)',
  'string-table': 'string table, flattening and concatenation',
  'megamorphic-ic': 'megamorphic ICs and dictionary-mode property access',
  deopt: 'deoptimization',
  gc: 'garbage collection',
  regexp: 'regular expressions',
  json: 'JSON',
  compiler: 'compilers (parse, Ignition, Sparkplug, Maglev, TurboFan)',
  interpreter: 'the bytecode interpreter',
  runtime: 'other V8 and Node runtime',
  kernel: 'kernel',
  profiler: "the profilers' own cost",
};

// First match wins: the specific families come before the broad ones (a GC started from a string
// allocation is GC; a stack capture inside an Error constructor is an exception cost).
const RULES: [NativeCategory, RegExp][] = [
  ['profiler', /\bsampler::|SignalHandler::HandleProfilerSignal|CpuProfiler|ProfilerEventsProcessor|SamplingEventsProcessor|TickSample|ProfilerListener|perf_event|__perf_|PerfBasicLogger|PerfJitLogger/],
  ['gc', /\bv8::internal::(Heap|MarkCompact|MinorMarkCompact|MinorMS|Scavenge[r]?|ScavengeJob|ConcurrentMarking|IncrementalMarking|MarkingVisitor|MarkingBarrier|Sweeper|Evacuat|PageEvacuation|MemoryAllocator|PagedSpace|NewSpace|SemiSpace|LargeObjectSpace|GCTracer|ArrayBufferSweeper|Compactor|WriteBarrier|RememberedSet|SlotSet|EphemeronHashTable|MainMarkingVisitor|ConcurrentMarkingVisitor|MarkingWorklists|GlobalHandles|Heap[A-Z]\w*|\w*Collector)\b|^Builtins_RecordWrite|^Builtins_EphemeronKeyBarrier|\(garbage collector\)|cppgc::/],
  ['exceptions', /\bv8::internal::(Isolate::(Throw|ReThrow|CaptureSimpleStackTrace|CaptureDetailedStackTrace|CaptureAndSetErrorStack|CaptureStackTrace|ThrowInternal|Unwind|UnwindAndFindHandler|PredictExceptionCatcher|ComputeLocation\w*|CreateMessage\w*)|ErrorUtils::\w+|CaptureSimpleStackTrace|CallSiteInfo\w*|ErrorStackData|\w*StackTraceBuilder\w*|StackFrameIterator\w*|\w*Messages?::\w+|MessageFormatter\w*|JSError\w*|Runtime_Throw\w*|Runtime_NewTypeError|Runtime_NewRangeError|Runtime_NewSyntaxError|Runtime_ReThrow\w*|Runtime_ErrorCapture\w*|Runtime_NewError|Factory::New(Syntax|Type|Range|Reference)?Error\w*|Factory::NewError\w*|Runtime_Unwind\w*|Runtime_PromoteScheduledException|Builtin_Error\w*|Builtin_ErrorConstructor|Builtin_ErrorCaptureStackTrace)|^Builtins_(ErrorConstructor|ErrorCaptureStackTrace|ReThrow\w*|Throw\w*|CallSiteInfo\w*)$|_Unwind_|CallSiteBuilder|StackTraceBuilder/],
  ['deopt', /\bv8::internal::(Deoptimizer|TranslatedState|TranslatedFrame|TranslatedValue|FrameWriter|MaterializedObjectStore|DeoptimizationData\w*|Runtime_NotifyDeoptimized|Runtime_DeoptimizeNow)|^Builtins_DeoptimizationEntry|^Builtins_NotifyDeoptimized|^Builtins_ContinueTo\w*Builtin/],
  ['regexp', /\bv8::internal::(RegExp\w*|JSRegExp\w*|Irregexp\w*|RegExpMacroAssembler\w*|NativeRegExpMacroAssembler|RegExpImpl|ExperimentalRegExp\w*|Runtime_RegExp\w*|Runtime_StringReplace\w*RegExp\w*|Runtime_StringSplit)|^Builtins_RegExp\w*|^Builtins_StringPrototype(Match|MatchAll|Replace|ReplaceAll|Search|Split)|^RegExp:|^Regexp:/],
  ['json', /\bv8::internal::(JsonParser\w*|JsonStringifier\w*|JsonStringify\w*|JsonParse\w*|Builtin_Json\w*|JSON\w*)|^Builtins_Json\w*|^Builtins_JSON\w*|\bnode::.*JSON/],
  ['string-table', /\bv8::internal::(StringTable\w*|String::(SlowFlatten|Flatten|WriteToFlat\w*|MakeThin\w*|SlowEquals|ComputeAndSetRawHash|EnsureHash\w*|ToArrayIndex|SlowAsArrayIndex|SlowAsIntegerIndex)|StringHasher\w*|SequentialStringKey\w*|InternalizedStringKey|ThinString\w*|ConsString\w*|StringBuilderConcat\w*|IncrementalStringBuilder\w*|Factory::(NewConsString|NewRawOneByteString|NewRawTwoByteString|InternalizeString\w*|LookupSingleCharacterStringFromCode|NewStringFromOneByte|NewProperSubString)|FactoryBase<[\w:]+>::(NewConsString|NewRawOneByteString|NewRawTwoByteString|InternalizeString\w*|NewProperSubString\w*)|LookupIterator::(PropertyOrElement|Key)\w*|PropertyKey::PropertyKey|Runtime_StringAdd\w*|Runtime_StringCharCodeAt|Runtime_StringToArrayIndex|Runtime_StringEqual|Runtime_InternalizeString|Runtime_FlattenString|CopyChars\w*|NumberToString\w*|DoubleToCString|IntToCString|Runtime_NumberToString)|^Builtins_(StringAdd\w*|StringEqual|StringCompare|StringConcat|StringPrototypeConcat|StringFromCharCode|StringSubstring|SubString|StringIndexOf|NumberToString|StringCharAt|StringCodePointAt|StringToNumber|ToString|ToName|InternalizeString|StringToList|StringRepeat|StringPrototypeToLowerCaseIntl|StringPrototypeToUpperCaseIntl|StringPrototypeSlice|StringPrototypeSubstring|StringPrototypeTrim|StringPrototypePadStart|StringPrototypePadEnd|FlattenString|CreateStringFromCharCode\w*)$/],
  ['megamorphic-ic', /^Builtins_\w*Megamorphic\w*|\bv8::internal::(StubCache\w*|MegamorphicCache\w*|KeyedLoadIC::\w+|KeyedStoreIC::\w+|LoadIC::\w+|StoreIC::\w+|KeyedHasIC\w*|IC::\w+|FeedbackNexus::ConfigureMegamorphic\w*|Runtime_KeyedLoadIC_Miss|Runtime_KeyedStoreIC_Miss|Runtime_LoadIC_Miss|Runtime_StoreIC_Miss|Runtime_KeyedHasIC_Miss|Runtime_LoadNoFeedbackIC_Miss|Runtime_GetProperty|Runtime_SetKeyedProperty|Runtime_DefineKeyedOwnIC\w*|Runtime_KeyedLoadIC\w*|NameDictionary\w*|Dictionary<[\w:]+>::\w+|HashTable<v8::internal::NameDictionary\w*|BaseNameDictionary\w*|SwissNameDictionary\w*|JSObject::(MigrateToMap|NormalizeProperties|OptimizeAsPrototype|AddDataElement)|Map::(TransitionToDataProperty|CopyWithField|Normalize|CopyReplaceDescriptors)\w*|Object::(SetProperty|GetProperty)\w*|KeyAccumulator\w*|FastKeyAccumulator\w*|GetOwnEnumPropertyDictionaryKeys\w*|\w*EnumIndexComparator\w*)|^Builtins_(KeyedLoadIC|KeyedStoreIC|LoadIC|StoreIC|KeyedHasIC|DefineKeyedOwnIC)(_Noninlined|Trampoline|_PolymorphicName|_Megamorphic)?\w*$|^Builtins_(GetProperty|SetProperty|ObjectKeys|ForInEnumerate|ForInPrepare|ForInFilter|ObjectGetOwnPropertyNames|HasProperty|DeleteProperty)\w*$|std::__introsort_loop<v8::internal::AtomicSlot|std::__unguarded_linear_insert<v8::internal::AtomicSlot|std::__insertion_sort<v8::internal::AtomicSlot/],
  ['compiler', /\bv8::internal::(compiler::|maglev::|baseline::|interpreter::(BytecodeGenerator|BytecodeArrayBuilder|BytecodeArrayWriter)|Parser\w*|PreParser\w*|Scanner\w*|Compiler::|AstNode\w*|DeclarationScope|Scope::|Runtime_CompileLazy|Runtime_CompileOptimized\w*|Runtime_InstallBaselineCode|OptimizingCompileDispatcher\w*|BaselineBatchCompiler\w*|Zone::\w+|CodeGenerator|Assembler\w*|TurboAssembler\w*|MacroAssembler\w*|CodeDesc|wasm::)|^Builtins_CompileLazy\w*/],
  ['interpreter', /^Builtins_Interpreter\w*|^BytecodeHandler:|^Builtins_\w+Handler(_(Wide|ExtraWide))?$|^Builtins_(Lda|Sta|Star|Ldar|Mov|Jump|Test|Call|Construct|Return|Throw|ReThrow|Inc|Dec|Add|Sub|Mul|Div|Mod|BitwiseAnd|BitwiseOr|BitwiseXor|ShiftLeft|ShiftRight|GetIterator|ForIn|Create|SwitchOnSmi)\w*Handler\w*$/],
  ['kernel', /\[kernel\]|\[kernel\.kallsyms\]|^(asm_|exc_|do_|__x64_sys_|entry_SYSCALL|syscall_)\w*/],
];

/** The category of a native frame; `runtime` when no family claims it. `dso` helps kernel frames. */
export function classifyNative(symbol: string, dso = ''): NativeCategory {
  if (dso.includes('kernel')) return symbol.includes('perf_') ? 'profiler' : 'kernel';
  for (const [category, pattern] of RULES) if (pattern.test(symbol)) return category;
  return 'runtime';
}

const CONTEXTS = new Set<NativeCategory>(['exceptions', 'deopt', 'regexp', 'json', 'compiler']);
// The interpreter runs JavaScript: below an operation or a mechanism, it is not the cost.
const MECHANISMS = new Set<NativeCategory>(['string-table', 'megamorphic-ic']);

/**
 * One category for the native frames between a sample's leaf and its nearest JavaScript frame,
 * given leaf first. GC and the profilers win wherever they are (their cost is theirs, whoever
 * allocated); then exceptions; then the outermost operation (a string built while formatting an
 * error message is an exception cost); then the innermost mechanism (a string-table probe inside a megamorphic
 * keyed load is string interning); then the kernel; else the runtime.
 */
export function segmentCategory(leafFirst: readonly NativeCategory[]): NativeCategory {
  const forced = leafFirst.find((c) => c === 'gc' || c === 'profiler');
  if (forced) return forced;
  // An error built inside JSON.parse or a regexp, or a stack capture that walks optimized frames
  // with the deoptimizer's TranslatedState, is the exception's cost.
  if (leafFirst.includes('exceptions')) return 'exceptions';
  for (let i = leafFirst.length - 1; i >= 0; i--) if (CONTEXTS.has(leafFirst[i]!)) return leafFirst[i]!;
  const mechanism = leafFirst.find((c) => MECHANISMS.has(c));
  if (mechanism) return mechanism;
  if (leafFirst.includes('interpreter')) return 'interpreter';
  return leafFirst.includes('kernel') ? 'kernel' : 'runtime';
}
