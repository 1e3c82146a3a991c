import type { NativeEvidence } from '../native/native-evidence';

/**
 * A finding: a wasteful hot path, with where it is, how much CPU it costs and what to do.
 * findings.json is a list of these (docs/architecture.md, "Boundaries").
 */
export type FindingKind = 'exception-control-flow' | 'string-interning' | 'gc-pressure' | 'sync-io' | 'deopt-loop';

export interface Finding {
  kind: FindingKind;
  /** The function that holds the hot line ('(garbage collector)' for gc-pressure). */
  function: string;
  /** As shown to the user: relative to the working directory when inside it, else a path or URL; the original source when a source map says so. */
  file: string;
  /** 1-based; 0 when the finding has no line (gc-pressure); the function's own line for deopt-loop. */
  line: number;
  /** Fraction of all busy samples, 0–1. */
  share: number;
  /** What was measured: the lines, constructors or calls and their shares, in one or two sentences. */
  evidence: string;
  /** What to do instead. */
  advice: string;
  /** Index of the frame in the stack model the finding is about, so the flame graph can link to it. */
  frame: number;
  /**
   * `false` when the JavaScript profile cannot show the waste itself, only where it would be (a
   * hot built-in call that throws on bad input, inside a catch that swallows its error): the
   * native frames of `preheat flame --native` confirm it or not. Absent: the profile shows it.
   */
  confirmed?: false;
  /** With `preheat flame --native`: the cost categories measured in the function's native frames. */
  native?: NativeEvidence;
}
