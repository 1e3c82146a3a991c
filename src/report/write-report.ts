import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectFindings } from '../analysis/detect';
import type { Finding } from '../analysis/finding';
import { functionStats } from '../analysis/function-stats';
import { createSourceFiles } from '../analysis/source-files';
import { writeFileAtomic } from '../profile/store';
import type { StackModel } from '../profile/stack-model';
import { placeByName, type DeoptSummary } from '../native/deopt-events';
import type { NativeProfile } from '../native/native-model';
import { withNativeEvidence } from '../native/native-evidence';
import { nativeSummary, type NativeSummary } from '../native/native-summary';
import { renderFlamegraphHtml } from './flamegraph-html';
import { ErrorCodes, PreheatError } from '../errors';
import { foldedSize, toFolded } from './folded';
import { toPprof } from './pprof';
import { topFunctions, type TopFunction } from './top-functions';

export interface ReportOptions {
  out: string;
  title: string;
  /** Paths in the report are relative to this directory. */
  cwd?: string;
  /** How many top functions to return for the terminal. */
  top?: number;
  /** Called before each stage, for a progress display on large inputs. */
  onStage?: (stage: string) => void;
  /**
   * `preheat flame --native`: the flame graph, pprof and folded stacks show these native stacks,
   * findings gain their measured cost categories, and native.json is written.
   */
  native?: { profile: NativeProfile; source: 'perf' | 'v8-tick-log'; deopts?: DeoptSummary | null };
}

/** Said where the report has no deoptimization counts to read: every input but `preheat flame --native`. */
export const DEOPT_LOOPS_UNMEASURED =
  'deopt-loop: not measured here. CPU profiles and pprof carry no deoptimization counts (a .cpuprofile\'s deoptReason is why V8 would not ' +
  'optimize a function, not how often it deoptimized); `preheat flame --native -- node app.js` reads them from V8\'s log.';

export interface Report {
  files: { html: string; pprof: string; folded: string; findings: string; native?: string };
  findings: Finding[];
  top: TopFunction[];
  /** What the report could not look at, one line each, for the terminal. */
  notes: string[];
  /** With `native`: what native.json holds. */
  native?: NativeSummary;
}

/**
 * The most text stacks.folded may hold. Folded stacks and pprof repeat every sampled stack in
 * full, so their size grows with stacks × depth, not with the input: a million-sample profile
 * folds into about 200 KB, and 64 MiB keeps the worst case to seconds and well under a GB.
 */
export const MAX_FOLDED_CHARS = 64 * 1024 * 1024;

/** Every output of `preheat report`, rendered from the one stack model. */
export function writeReport(model: StackModel, options: ReportOptions): Report {
  const stage = options.onStage ?? (() => {});
  const native = options.native;
  // The graphs show what was sampled most completely: the native stacks when there are any.
  const shown = native && native.profile.model.totalSamples > 0 ? native.profile.model : model;
  const size = foldedSize(shown);
  if (size.chars > MAX_FOLDED_CHARS) {
    throw new PreheatError(
      ErrorCodes.input,
      `the sampled stacks are too many and too deep to write: stacks.folded would hold ${Math.ceil(size.chars / 2 ** 20)} MiB ` +
        `(deepest stack ${size.deepest} frames), and preheat writes at most ${MAX_FOLDED_CHARS / 2 ** 20} MiB`,
    );
  }
  const sources = createSourceFiles(options.cwd);
  stage('analysing');
  const { stats, totals } = functionStats(model);
  // Under perf the optimization trace names functions by name alone: the JavaScript profile places them.
  const deoptSummary = native?.deopts ? placeByName(native.deopts, model.frames) : null;
  const deopts = deoptSummary ? {
        summary: deoptSummary,
        functions: native!.profile.functions,
        mainSamples: native!.profile.mainSamples,
        mainMicros: native!.profile.mainSamples * native!.profile.intervalMicros,
      } : undefined;
  const notes = deopts ? [] : [DEOPT_LOOPS_UNMEASURED];
  const jsFindings = detectFindings({ model, stats, totals, sources, ...(deopts ? { deopts } : {}) });
  const findings = native ? withNativeEvidence(jsFindings, model, native.profile, native.source) : jsFindings;
  const top = topFunctions(model, sources, options.top ?? 15);

  fs.mkdirSync(options.out, { recursive: true });
  const files: Report['files'] = {
    html: path.join(options.out, 'flamegraph.html'),
    pprof: path.join(options.out, 'profile.pb.gz'),
    folded: path.join(options.out, 'stacks.folded'),
    findings: path.join(options.out, 'findings.json'),
  };
  stage('writing flamegraph.html');
  const displayFile = (url: string, line: number) => {
    const d = sources.display(url, line);
    return `${d.file}:${d.line}`;
  };
  writeFileAtomic(files.html, renderFlamegraphHtml(shown, findings, { title: options.title, displayFile, categories: shown !== model }));
  stage('writing profile.pb.gz');
  writeFileAtomic(files.pprof, toPprof(shown));
  stage('writing stacks.folded');
  writeFileAtomic(files.folded, toFolded(shown));
  writeFileAtomic(files.findings, JSON.stringify(findings.map(publicFinding), null, 2) + '\n');
  if (!native) return { files, findings, top, notes };
  const summary = nativeSummary(native.profile, native.source, displayFile, deoptSummary);
  files.native = path.join(options.out, 'native.json');
  writeFileAtomic(files.native, JSON.stringify(summary, null, 2) + '\n');
  return { files, findings, top, notes, native: summary };
}

/** findings.json carries the documented fields only; `frame` is an index into this run's model. */
function publicFinding(f: Finding) {
  const { kind, function: fn, file, line, share, evidence, advice, native } = f;
  return { kind, function: fn, file, line, share: Math.round(share * 1e4) / 1e4, evidence, advice, ...(native ? { native } : {}) };
}
