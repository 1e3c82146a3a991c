import type { Detector, DetectorInput } from '../detector';
import type { Finding } from '../finding';
import type { SourceFile } from '../source-files';
import type { Frame } from '../../profile/stack-model';
import { hotLines, percent } from './hot-lines';
import { ancestors, findAll, isFunction, snippet, syntaxIndex, type Node, type SyntaxIndex } from './syntax-index';

const ADVICE =
  'Return a result (null, undefined or a { ok, value } object) for expected misses instead of throwing; ' +
  'where an Error must be made, skip the stack capture (a preallocated error, or Error.stackTraceLimit = 0 around it).';

/**
 * Errors thrown and caught close by, as control flow. V8 charges `throw new X()` and its stack
 * capture to the throwing line, and an Error subclass's constructor shows as its own frame
 * (docs/v8.md, "CPU profiles"). Reported only with proof that the error is caught near: a `try`
 * around the throw in the same function, or a caller that calls the throwing function inside a
 * `try` whose `catch` does not always rethrow. An error that propagates is a real failure, not
 * control flow.
 */
export function exceptionControlFlow(minShare: number): Detector {
  return (input) => {
    const busy = input.totals.busy || 1;
    // Throw sites: hot lines holding a throw or an Error construction, grouped by function.
    const sites = new Map<number, { lines: { line: number; share: number; text: string }[]; file: SourceFile; index: SyntaxIndex }>();
    for (const hot of hotLines(input, minShare / 4)) {
      const file = input.sources.get(hot.url);
      const index = file && syntaxIndex(file);
      if (!file || !index) continue;
      const node = (index.byLine.get(hot.line) ?? []).find((n) => isThrow(n) || isErrorConstruction(n, index));
      if (!node) continue;
      const site = sites.get(hot.frame) ?? { lines: [], file, index };
      site.lines.push({ line: hot.line, share: hot.share, text: snippet(file, node) });
      sites.set(hot.frame, site);
    }

    const findings: Finding[] = [];
    for (const [frame, site] of sites) {
      const f = input.model.frames[frame]!;
      // The constructors of Error subclasses this function throws.
      const ctorShare = errorConstructorShare(input, site, busy);
      const share = site.lines.reduce((n, l) => n + l.share, 0) + ctorShare.share;
      if (share < minShare) continue;
      const catcher = caughtNearby(input, frame, site);
      if (!catcher) continue;
      const where = input.sources.display(f.url, site.lines[0]!.line);
      const lineText = site.lines.map((l) => `${percent(l.share)} on \`${l.text}\` (line ${input.sources.display(f.url, l.line).line})`).join(', ');
      findings.push({
        kind: 'exception-control-flow',
        function: f.name || '(anonymous)',
        file: where.file,
        line: where.line,
        share,
        evidence:
          `${percent(share)} of CPU samples: ${lineText}` +
          (ctorShare.share > 0 ? `, ${percent(ctorShare.share)} in ${ctorShare.names.join(', ')}'s constructor` : '') +
          `; ${catcher}.`,
        advice: ADVICE,
        frame,
      });
    }
    return findings;
  };
}

function isThrow(n: Node): boolean {
  return n.type === 'ThrowStatement';
}

function isErrorConstruction(n: Node, index: SyntaxIndex): boolean {
  return n.type === 'NewExpression' && n.callee.type === 'Identifier' && (/Error$/.test(n.callee.name) || index.errorClasses.has(n.callee.name));
}

/** Samples in the constructors of the Error subclasses constructed on the site's lines. */
function errorConstructorShare(input: DetectorInput, site: { lines: { text: string }[]; index: SyntaxIndex }, busy: number) {
  const names = new Set<string>();
  for (const l of site.lines) {
    const m = /new\s+([A-Za-z_$][\w$]*)/.exec(l.text);
    if (m && site.index.errorClasses.has(m[1]!)) names.add(m[1]!);
  }
  let samples = 0;
  for (const s of input.stats.values()) {
    const f = input.model.frames[s.frame]!;
    if (f.kind === 'js' && names.has(f.name)) samples += s.self;
  }
  return { names: [...names], share: samples / busy };
}

/**
 * How the error is caught close by, in words, or null without proof: a try/catch around the throw
 * in the same function, or a caller's try around a call to the throwing function whose catch
 * does not rethrow.
 */
function caughtNearby(input: DetectorInput, frame: number, site: { lines: { line: number }[]; index: SyntaxIndex }): string | null {
  const throwing = input.model.frames[frame]!;
  for (const l of site.lines) {
    for (const n of site.index.byLine.get(l.line) ?? []) {
      const chain = ancestors(site.index, n);
      for (let i = 0; i < chain.length && !isFunction(chain[i]!); i++) {
        const parent = chain[i + 1];
        if (chain[i]!.type === 'BlockStatement' && parent?.type === 'TryStatement' && parent.block === chain[i] && swallows(parent.handler)) {
          return `caught in the same function at line ${parent.handler.loc.start.line}${rethrowsSome(parent.handler) ? ' (only unexpected errors are rethrown)' : ''}`;
        }
      }
    }
  }
  if (!throwing.name) return null;
  // Up the sampled call paths, a few calls deep: validation libraries throw from a helper
  // (`ensure`) two calls below the `try`, often calling the rule through a variable.
  const seen = new Set<string>();
  for (const node of input.model.nodes) {
    if (node.frame !== frame) continue;
    let callee = throwing;
    let p = node.parent;
    for (let depth = 0; depth < MAX_CATCH_DEPTH && p > 0; depth++, p = input.model.nodes[p]!.parent) {
      const caller = input.model.frames[input.model.nodes[p]!.frame]!;
      if (caller.kind !== 'js') break;
      const pair = `${input.model.nodes[p]!.frame}\u0000${callee.name}`;
      if (!seen.has(pair)) {
        seen.add(pair);
        const found = catchIn(input, caller, callee.name);
        if (found) return found;
      }
      if (!caller.name) break;
      callee = caller;
    }
  }
  return null;
}

/** Calls between the throw and a catch that treats it as control flow, at most. */
const MAX_CATCH_DEPTH = 3;

/** A try in `caller` that calls `callee` (by name, passed by name, or through a variable) and handles what it throws. */
function catchIn(input: DetectorInput, caller: Frame, callee: string): string | null {
  const file = input.sources.get(caller.url);
  const index = file && syntaxIndex(file);
  if (!file || !index) return null;
  const fns = (index.functionsByName.get(caller.name) ?? []).filter(isFunction);
  for (const fn of fns) {
    for (const t of findAll(fn, (n) => n.type === 'TryStatement' && swallows(n.handler))) {
      const calls = findAll(t.block, (n) => callsName(n, callee) || passesName(n, callee) || callsThroughVariable(n, index));
      if (calls.length) {
        const at = input.sources.display(caller.url, t.handler.loc.start.line);
        return `caught by ${caller.name || '(anonymous)'} at ${at.file}:${at.line}, which ${rethrowsSome(t.handler) ? 'rethrows only the errors it does not expect' : 'does not rethrow'}`;
      }
    }
  }
  return null;
}

/**
 * `fn(x)`, `rules[name](x)`: a call whose target the source does not name, so it may be the
 * function the profile shows below (the sampled stack proves the call; the source cannot).
 */
function callsThroughVariable(n: Node, index: SyntaxIndex): boolean {
  if (n.type !== 'CallExpression') return false;
  const c = n.callee;
  if (c.type === 'MemberExpression') return c.computed;
  return c.type === 'Identifier' && !index.functionsByName.has(c.name) && !GLOBAL_CALLS.has(c.name);
}

/** Calls that are never the app's own function. */
const GLOBAL_CALLS = new Set(['Number', 'String', 'Boolean', 'BigInt', 'Symbol', 'parseInt', 'parseFloat', 'isNaN', 'isFinite', 'require', 'setTimeout', 'setImmediate', 'clearTimeout', 'queueMicrotask', 'structuredClone', 'encodeURIComponent', 'decodeURIComponent', 'encodeURI', 'decodeURI']);

function rethrowsSome(handler: Node): boolean {
  return findAll(handler.body, (n) => n.type === 'ThrowStatement').length > 0;
}

function callsName(n: Node, name: string): boolean {
  if (n.type !== 'CallExpression' && n.type !== 'NewExpression') return false;
  const c = n.callee;
  return (c.type === 'Identifier' && c.name === name) || (c.type === 'MemberExpression' && !c.computed && c.property.name === name);
}

/** `ids.map(lookup)`-style: the throwing function passed by name to a call inside the try. */
function passesName(n: Node, name: string): boolean {
  return n.type === 'CallExpression' && n.arguments.some((a: Node) => a.type === 'Identifier' && a.name === name);
}

/**
 * A catch clause that handles the error instead of always passing it on: no throw among its own
 * statements. A throw under an `if` (`if (!(e instanceof Miss)) throw e`) passes on only the
 * errors it did not expect: the expected ones are still control flow.
 */
function swallows(handler: Node | null): boolean {
  if (!handler) return false;
  return !handler.body.body.some((statement: Node) => statement.type === 'ThrowStatement');
}
