import type * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import type { SourceFile } from '../source-files';

export type Node = acorn.Node & Record<string, any>;

/** A file's syntax tree indexed for line lookups, with each node's parent. Built once per file. */
export interface SyntaxIndex {
  /** Nodes by the 1-based line they start on. */
  byLine: Map<number, Node[]>;
  parent: Map<Node, Node>;
  /** Functions (and class constructors' classes) by name. */
  functionsByName: Map<string, Node[]>;
  /** Names of classes in this file that extend Error, directly or through another such class. */
  errorClasses: Set<string>;
}

const cache = new WeakMap<SourceFile, SyntaxIndex | null>();

export function syntaxIndex(file: SourceFile): SyntaxIndex | null {
  if (cache.has(file)) return cache.get(file)!;
  const index = file.ast ? build(file.ast as Node) : null;
  cache.set(file, index);
  return index;
}

function build(ast: Node): SyntaxIndex {
  const byLine = new Map<number, Node[]>();
  const parent = new Map<Node, Node>();
  const functionsByName = new Map<string, Node[]>();
  const classes: { name: string; superName: string | null }[] = [];
  (walk.fullAncestor as (n: acorn.Node, cb: (n: Node, state: unknown, ancestors: Node[]) => void) => void)(ast, (node, _s, ancestors) => {
    const line = node.loc!.start.line;
    // Appended in place: a minified bundle has its whole tree on one line.
    const onLine = byLine.get(line);
    if (onLine) onLine.push(node);
    else byLine.set(line, [node]);
    if (ancestors.length > 1) parent.set(node, ancestors[ancestors.length - 2]!);
    const name = functionName(node, ancestors[ancestors.length - 2]);
    if (name) {
      const named = functionsByName.get(name);
      if (named) named.push(node);
      else functionsByName.set(name, [node]);
    }
    if ((node.type === 'ClassDeclaration' || node.type === 'ClassExpression') && node.id) {
      classes.push({ name: node.id.name, superName: node.superClass?.type === 'Identifier' ? node.superClass.name : null });
    }
  });
  const errorClasses = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const c of classes) {
      if (errorClasses.has(c.name) || !c.superName) continue;
      if (/Error$/.test(c.superName) || errorClasses.has(c.superName)) {
        errorClasses.add(c.name);
        changed = true;
      }
    }
  }
  return { byLine, parent, functionsByName, errorClasses };
}

/** The name a profile shows for a function node: its own, its variable's, its method key's. */
function functionName(node: Node, parentNode: Node | undefined): string | null {
  if (node.type === 'ClassDeclaration' || node.type === 'ClassExpression') return node.id?.name ?? null;
  if (!/Function/.test(node.type)) return null;
  if (node.id?.name) return node.id.name;
  if (!parentNode) return null;
  if (parentNode.type === 'VariableDeclarator' && parentNode.id.type === 'Identifier') return parentNode.id.name;
  if ((parentNode.type === 'MethodDefinition' || parentNode.type === 'Property') && !parentNode.computed) {
    return parentNode.key.name ?? parentNode.key.value ?? null;
  }
  if (parentNode.type === 'AssignmentExpression' && parentNode.left.type === 'MemberExpression' && !parentNode.left.computed) {
    return parentNode.left.property.name;
  }
  return null;
}

export function ancestors(index: SyntaxIndex, node: Node): Node[] {
  const out: Node[] = [];
  for (let p = index.parent.get(node); p; p = index.parent.get(p)) out.push(p);
  return out;
}

export function isFunction(node: Node): boolean {
  return node.type === 'FunctionDeclaration' || node.type === 'FunctionExpression' || node.type === 'ArrowFunctionExpression';
}

/** The source text of a node, shortened for evidence. */
export function snippet(file: SourceFile, node: Node, max = 60): string {
  const text = file.text.slice(node.start, node.end).replace(/\s+/g, ' ');
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

/** Every node below `root` (root included) matching `test`. */
export function findAll(root: Node, test: (n: Node) => boolean): Node[] {
  const out: Node[] = [];
  walk.full(root, (n) => {
    if (test(n as Node)) out.push(n as Node);
  });
  return out;
}
