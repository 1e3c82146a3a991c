import type { Detector } from '../detector';
import type { Finding } from '../finding';
import { hotLines, percent } from './hot-lines';
import { ancestors, findAll, isFunction, snippet, syntaxIndex, type Node, type SyntaxIndex } from './syntax-index';

const KEY_ADVICE =
  'Use a Map keyed by the value itself (or by a number), or build each key once and reuse it: every fresh string used as a ' +
  'property key is hashed and looked up in V8\'s string table, and the object turns into a slow dictionary.';
const JSON_ADVICE =
  'Parse once and cache, parse only what is needed, or carry the data in a shape with fewer distinct keys: each new key ' +
  'JSON.parse meets is internalized in V8\'s string table.';

/** Methods that return a new string. */
const STRING_MAKERS = new Set(['slice', 'substring', 'substr', 'toLowerCase', 'toUpperCase', 'trim', 'trimStart', 'trimEnd', 'join', 'replace', 'replaceAll', 'toString', 'concat', 'padStart', 'padEnd', 'repeat']);

/**
 * Hot lines that use freshly built strings as property keys (computed member access, `in`,
 * `delete`, Object.hasOwn whose key is a concatenation, a template, String(x), a string method's
 * result, or a local variable made from one), and hot `JSON.parse`. Numeric keys (`a[i]`,
 * `a[i + 1]`) and Map/Set calls are not findings.
 */
export function stringInterning(minShare: number): Detector {
  return (input) => {
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const hot of hotLines(input, minShare)) {
      const file = input.sources.get(hot.url);
      const index = file && syntaxIndex(file);
      if (!file || !index) continue;
      const nodes = index.byLine.get(hot.line) ?? [];
      const key = nodes.map((n) => freshKeyUse(n, index)).find((k) => k !== null);
      // A hot JSON.parse is a weaker signal (the profile cannot tell how many distinct keys the
      // objects have): it needs five times the share, and a parse of a file read on the same
      // line is the sync-io detector's finding, not this one's.
      const json = key ? null : nodes.find((n) => isJsonParse(n) && !readsFile(n));
      if (!key && (!json || hot.share < minShare * 5)) continue;
      const f = input.model.frames[hot.frame]!;
      const where = input.sources.display(f.url, hot.line);
      const id = `${where.file}:${where.line}`;
      if (seen.has(id)) continue;
      seen.add(id);
      findings.push({
        kind: 'string-interning',
        function: f.name || '(anonymous)',
        file: where.file,
        line: where.line,
        share: hot.share,
        evidence: key
          ? `${percent(hot.share)} of CPU samples on line ${where.line}, which uses a freshly built string as a property key: \`${snippet(file, key.use)}\` (key: ${key.why}).`
          : `${percent(hot.share)} of CPU samples on line ${where.line}, a hot \`${snippet(file, json!)}\`.`,
        advice: key ? KEY_ADVICE : JSON_ADVICE,
        frame: hot.frame,
      });
    }
    return onePerFunction(findings);
  };
}

/**
 * One finding per function, at its hottest line, the function's other lines named in it: a key
 * built on a hot lookup and again on a cold insert path is one pattern to fix, and a line a few
 * samples land on (positions in optimized code are approximate) is no finding of its own.
 */
function onePerFunction(findings: Finding[]): Finding[] {
  const byFunction = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = `${f.file}\0${f.frame}`;
    byFunction.set(key, [...(byFunction.get(key) ?? []), f]);
  }
  return [...byFunction.values()].map((group) => {
    const [top, ...rest] = [...group].sort((a, b) => b.share - a.share);
    if (!rest.length) return top!;
    const others = rest.map((f) => `${f.line} (${percent(f.share)})`).join(', ');
    return { ...top!, evidence: `${top!.evidence} The same function also does it on line${rest.length > 1 ? 's' : ''} ${others}.` };
  });
}

/** The key expression of a computed property use, and why it is a fresh string; else null. */
function freshKeyUse(n: Node, index: SyntaxIndex): { use: Node; why: string } | null {
  let keyNode: Node | null = null;
  if (n.type === 'MemberExpression' && n.computed) keyNode = n.property;
  else if (n.type === 'BinaryExpression' && n.operator === 'in') keyNode = n.left;
  else if (n.type === 'CallExpression' && isMember(n.callee, 'Object', 'hasOwn') && n.arguments.length === 2) keyNode = n.arguments[1];
  else if (n.type === 'CallExpression' && n.callee.type === 'MemberExpression' && !n.callee.computed && n.callee.property.name === 'hasOwnProperty') keyNode = n.arguments[0] ?? null;
  if (!keyNode) return null;
  const why = freshString(keyNode, index, n, 0);
  return why ? { use: n, why } : null;
}

function freshString(k: Node, index: SyntaxIndex, at: Node, depth: number): string | null {
  if (k.type === 'TemplateLiteral' && k.expressions.length > 0) return 'a template literal';
  if (k.type === 'BinaryExpression' && k.operator === '+' && (isStringy(k.left) || isStringy(k.right))) return 'a string concatenation';
  if (k.type === 'CallExpression' && k.callee.type === 'Identifier' && k.callee.name === 'String') return 'String(…)';
  if (k.type === 'CallExpression' && k.callee.type === 'MemberExpression' && !k.callee.computed && STRING_MAKERS.has(k.callee.property.name)) {
    return `the result of .${k.callee.property.name}()`;
  }
  if (k.type === 'Identifier' && depth === 0) {
    // A local made from one of the above, earlier in the same function.
    const fn = ancestors(index, at).find(isFunction);
    if (!fn) return null;
    for (const d of findAll(fn, (x) => x.type === 'VariableDeclarator' && x.id.type === 'Identifier' && x.id.name === k.name && x.init && x.start < at.start)) {
      const why = freshString(d.init, index, at, depth + 1);
      if (why) return `${k.name}, ${why} (line ${d.loc!.start.line})`;
    }
  }
  return null;
}

function isStringy(n: Node): boolean {
  return (n.type === 'Literal' && typeof n.value === 'string') || n.type === 'TemplateLiteral' || (n.type === 'BinaryExpression' && n.operator === '+' && (isStringy(n.left) || isStringy(n.right)));
}

function isMember(n: Node, object: string, property: string): boolean {
  return n.type === 'MemberExpression' && !n.computed && n.object.type === 'Identifier' && n.object.name === object && n.property.name === property;
}

function readsFile(n: Node): boolean {
  return findAll(n, (x) => x.type === 'CallExpression' && x.callee.type === 'MemberExpression' && /^read(File)?Sync$/.test(x.callee.property?.name ?? '')).length > 0;
}

function isJsonParse(n: Node): boolean {
  return n.type === 'CallExpression' && isMember(n.callee, 'JSON', 'parse');
}

