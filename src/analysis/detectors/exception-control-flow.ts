import type { Detector, DetectorInput } from '../detector';
import type { Finding } from '../finding';
import type { SourceFile } from '../source-files';
import type { Frame } from '../../profile/stack-model';
import { hotLines, percent } from './hot-lines';
import { ancestors, findAll, isFunction, snippet, syntaxIndex, type Node, type SyntaxIndex } from './syntax-index';

const ADVICE =
  'Return a result (null, undefined or a { ok, value } object) for expected misses instead of throwing; ' +
  'where an Error must be made, skip the stack capture (a preallocated error, or Error.stackTraceLimit = 0 around it).';

const BUILTIN_ADVICE =
  'Check the input before the call instead of catching what it throws: URL.canParse() before new URL(), a first-character ' +
  'or regexp test before JSON.parse, decodeURIComponent or BigInt; each caught error costs its construction and stack capture.';

interface Site {
  lines: { line: number; share: number; text: string; builtin: string | null }[];
  file: SourceFile;
  index: SyntaxIndex;
}

/** Built-ins that throw on bad input, as `Object.method` or a global name, with `new` or without. */
const THROWING_CALLS = new Set(['JSON.parse', 'JSON.stringify', 'decodeURIComponent', 'decodeURI', 'encodeURIComponent', 'encodeURI', 'BigInt', 'atob', 'btoa', 'structuredClone', 'Buffer.from', 'JSON5.parse', 'URL', 'RegExp', 'TextDecoder.decode']);
const THROWING_NEW = new Set(['URL', 'RegExp', 'Intl.DateTimeFormat', 'Intl.NumberFormat', 'BigInt64Array', 'Function']);

/** The frame a throwing built-in shows as in a CPU profile where Node implements it in JavaScript. */
const NODE_FRAMES: Record<string, string> = { 'new URL': 'URL', atob: 'atob', btoa: 'btoa', 'Buffer.from': 'from', structuredClone: 'structuredClone', 'TextDecoder.decode': 'decode' };

/** Samples under node: frames of those built-ins, by the app frame that calls them. */
function nodeBuiltinCallees(input: DetectorInput, minShare: number): { frame: number; name: string; share: number }[] {
  const { model } = input;
  const names = new Set(Object.values(NODE_FRAMES));
  const subtree = model.nodes.map((n) => n.self);
  for (let i = model.nodes.length - 1; i > 0; i--) subtree[model.nodes[i]!.parent]! += subtree[i]!;
  const sums = new Map<string, { frame: number; name: string; samples: number }>();
  for (const [i, n] of model.nodes.entries()) {
    const f = model.frames[n.frame]!;
    if (i === 0 || n.parent <= 0 || !f.url.startsWith('node:') || !names.has(f.name)) continue;
    const caller = model.frames[model.nodes[n.parent]!.frame]!;
    if (caller.kind !== 'js' || !caller.url.startsWith('file://')) continue;
    const key = `${model.nodes[n.parent]!.frame}:${f.name}`;
    const e = sums.get(key) ?? { frame: model.nodes[n.parent]!.frame, name: f.name, samples: 0 };
    e.samples += subtree[i]!;
    sums.set(key, e);
  }
  const busy = input.totals.busy || 1;
  return [...sums.values()].map((e) => ({ frame: e.frame, name: e.name, share: e.samples / busy })).filter((e) => e.share >= minShare);
}

/** The function node a profile frame is: by name and the line it starts on, else by the line alone. */
function functionNode(index: SyntaxIndex, f: Frame): Node | null {
  const named = (index.functionsByName.get(f.name) ?? []).filter(isFunction);
  return named.find((n) => n.loc!.start.line <= f.line && n.loc!.end.line >= f.line) ?? named[0] ?? null;
}

/** The name of the throwing built-in `n` calls, or null. */
function throwingBuiltin(n: Node): string | null {
  if (n.type !== 'CallExpression' && n.type !== 'NewExpression') return null;
  const name = calleeName(n.callee);
  if (!name) return null;
  if (n.type === 'NewExpression') return THROWING_NEW.has(name) ? `new ${name}` : null;
  return THROWING_CALLS.has(name) && name !== 'URL' && name !== 'RegExp' ? name : null;
}

function calleeName(c: Node): string | null {
  if (c.type === 'Identifier') return c.name;
  // A TextDecoder is kept in a variable or a field (`utf8.decode(bytes)`); `fatal` makes it throw on bad bytes.
  if (c.type === 'MemberExpression' && !c.computed && c.property.name === 'decode') return 'TextDecoder.decode';
  if (c.type === 'MemberExpression' && !c.computed && c.object.type === 'Identifier') return `${c.object.name}.${c.property.name}`;
  return null;
}

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
    const sites = new Map<number, Site>();
    for (const hot of hotLines(input, minShare / 4)) {
      const file = input.sources.get(hot.url);
      const index = file && syntaxIndex(file);
      if (!file || !index) continue;
      const onLine = index.byLine.get(hot.line) ?? [];
      const node = onLine.find((n) => isThrow(n) || isErrorConstruction(n, index)) ?? onLine.find(throwingBuiltin);
      if (!node) continue;
      const site = sites.get(hot.frame) ?? { lines: [], file, index };
      site.lines.push({ line: hot.line, share: hot.share, text: snippet(file, node), builtin: throwingBuiltin(node) });
      sites.set(hot.frame, site);
    }
    // Built-ins Node writes in JavaScript (URL, atob, Buffer.from…) are frames of their own below
    // the caller: their samples are the call's, charged to the line that makes it.
    for (const callee of nodeBuiltinCallees(input, minShare / 4)) {
      const f = input.model.frames[callee.frame]!;
      const file = input.sources.get(f.url);
      const index = file && syntaxIndex(file);
      if (!file || !index) continue;
      const fn = functionNode(index, f);
      const call = fn && findAll(fn, (n) => throwingBuiltin(n) !== null && NODE_FRAMES[throwingBuiltin(n)!] === callee.name)[0];
      if (!call) continue;
      const site = sites.get(callee.frame) ?? { lines: [], file, index };
      const line = call.loc!.start.line;
      const same = site.lines.find((l) => l.line === line);
      if (same) same.share += callee.share;
      else site.lines.push({ line, share: callee.share, text: snippet(file, call), builtin: throwingBuiltin(call) });
      sites.set(callee.frame, site);
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
      // Only built-in calls: the samples cannot tell a call that throws from one that succeeds.
      const unconfirmed = site.lines.every((l) => l.builtin);
      const where = input.sources.display(f.url, site.lines[0]!.line);
      const lineText = site.lines
        .map((l) => `${percent(l.share)} on \`${l.text}\` (line ${input.sources.display(f.url, l.line).line}${l.builtin ? `, ${l.builtin}, which throws on bad input` : ''})`)
        .join(', ');
      findings.push({
        kind: 'exception-control-flow',
        function: f.name || '(anonymous)',
        file: where.file,
        line: where.line,
        share,
        evidence:
          `${percent(share)} of CPU samples: ${lineText}` +
          (ctorShare.share > 0 ? `, ${percent(ctorShare.share)} in ${ctorShare.names.join(', ')}'s constructor` : '') +
          `; ${catcher}.` +
          (unconfirmed
            ? ' A JavaScript profile cannot tell the calls that throw from those that succeed: unconfirmed (preheat flame --native measures the exception cost).'
            : ''),
        advice: unconfirmed ? BUILTIN_ADVICE : ADVICE,
        frame,
        ...(unconfirmed ? { confirmed: false as const } : {}),
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
function caughtNearby(input: DetectorInput, frame: number, site: Site): string | null {
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
    const rejection = findAll(fn, (n) => catchesRejection(n, callee))[0];
    if (rejection) {
      const at = input.sources.display(caller.url, rejection.loc!.start.line);
      return `its rejection is handled by ${caller.name || '(anonymous)'} at ${at.file}:${at.line} (\`.${rejection.callee.property.name}()\`)`;
    }
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
 * A catch clause that handles the error instead of always passing it on. It always passes it on
 * only when a `throw` ends its own statements and nothing before it leaves the clause another way
 * (`if (e instanceof Miss) return null; throw e;` handles the expected error: control flow). A
 * throw under an `if`, a `switch` on `e.code` with a default that rethrows, a rethrow in a
 * helper: the expected errors are still handled.
 */
function swallows(handler: Node | null): boolean {
  if (!handler) return false;
  return !alwaysRethrows(handler.body);
}

function alwaysRethrows(body: Node): boolean {
  const statements: Node[] = body.body;
  const at = statements.findIndex((st) => st.type === 'ThrowStatement');
  if (at === -1) return false;
  // A return, break or continue before the throw (outside nested functions) leaves the clause without it.
  return !statements.slice(0, at).some((st) => findAll(st, (n) => ['ReturnStatement', 'BreakStatement', 'ContinueStatement'].includes(n.type)).some((n) => !insideFunction(n, st)));
}

function insideFunction(n: Node, within: Node): boolean {
  return findAll(within, isFunction).some((fn) => n.start >= fn.start && n.end <= fn.end);
}

/** `call().catch(handler)` or `call().then(ok, handler)` whose handler does not always rethrow. */
function catchesRejection(n: Node, callee: string): boolean {
  if (n.type !== 'CallExpression' || n.callee.type !== 'MemberExpression' || n.callee.computed) return false;
  const method = n.callee.property.name;
  const handler = method === 'catch' ? n.arguments[0] : method === 'then' ? n.arguments[1] : undefined;
  if (!handler) return false;
  const target = n.callee.object;
  if (!findAll(target, (m) => callsName(m, callee)).length) return false;
  if (!isFunction(handler)) return true; // a named handler: it handles the rejection
  return handler.body.type !== 'BlockStatement' || !alwaysRethrows(handler.body);
}
