import { createHash } from 'node:crypto';
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';

type Node = acorn.Node & { id?: acorn.Node | null };

const functionTypes = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
const classTypes = new Set(['ClassDeclaration', 'ClassExpression']);

export interface SourceIndex {
  lineStarts: number[];
  /** `sha256:<16 hex>` of each function's text (a class's, for its constructor), by the 0-based offset V8 reports for it. */
  hashes: Map<number, string>;
}

/**
 * Indexes the functions of one file by the point V8 uses for a function: its parameter list's `(`
 * (docs/v8.md, "Finding live functions"). The same text gives the same hash at record and at
 * warm-up time, so a changed function is detected. Only hashes are kept, not the source or the
 * tree. Returns null when acorn cannot parse the file as a script or a module (TypeScript run
 * through a loader, for example).
 */
export function indexSource(source: string): SourceIndex | null {
  const ast = tryParse(source, 'script') ?? tryParse(source, 'module');
  if (!ast) return null;
  const hashes = new Map<number, string>();
  const digest = (n: acorn.Node) =>
    'sha256:' + createHash('sha256').update(source.slice(n.start, n.end)).digest('hex').slice(0, 16);
  walk.full(ast, (n) => {
    const node = n as Node;
    if (functionTypes.has(node.type)) hashes.set(v8Position(source, node), digest(node));
    else if (classTypes.has(node.type) && !hashes.has(node.start)) hashes.set(node.start, digest(node));
  });
  const lineStarts = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  return { lineStarts, hashes };
}

/** The hash of the function at (line, column), both 1-based; null when no function starts there. */
export function functionHash(index: SourceIndex, line: number, column: number): string | null {
  const start = index.lineStarts[line - 1];
  return start === undefined ? null : (index.hashes.get(start + column - 1) ?? null);
}

function tryParse(source: string, sourceType: 'script' | 'module'): acorn.Node | null {
  try {
    return acorn.parse(source, {
      ecmaVersion: 'latest',
      sourceType,
      allowHashBang: true,
      // CommonJS bodies run inside a function: top-level return is legal there.
      allowReturnOutsideFunction: sourceType === 'script',
      allowAwaitOutsideFunction: true,
    });
  } catch {
    return null;
  }
}

/**
 * Where V8 says a function starts: an arrow at its first token (`(`, its lone parameter, or
 * `async`), any other function at its parameter list's `(`. Checked against real profiles in
 * test/profile/source-hash.test.ts.
 */
function v8Position(source: string, node: Node): number {
  if (node.type === 'ArrowFunctionExpression') return node.start;
  const paren = source.indexOf('(', node.id ? node.id.end : node.start);
  return paren === -1 ? node.start : paren;
}
