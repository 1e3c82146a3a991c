import { fileURLToPath } from 'node:url';
import type { Frame, StackModel } from '../profile/stack-model';

/**
 * Collapsed stacks (`root;…;leaf count` per line) for flamegraph.pl, inferno and speedscope.
 * Idle samples are left out: they are not CPU. A frame is `name file:line`; `;` and line breaks
 * in names would break the format, so they are replaced.
 */
export function toFolded(model: StackModel): string {
  const labels = model.frames.map(label);
  const out: string[] = [];
  const stack: [number, string][] = model.nodes[0]!.children.map((c) => [c, '']);
  while (stack.length) {
    const [i, prefix] = stack.pop()!;
    const n = model.nodes[i]!;
    const path = prefix ? `${prefix};${labels[n.frame]}` : labels[n.frame]!;
    if (n.self > 0 && model.frames[n.frame]!.kind !== 'idle') out.push(`${path} ${n.self}`);
    for (const c of n.children) stack.push([c, path]);
  }
  return out.sort().join('\n') + (out.length ? '\n' : '');
}

/**
 * How many characters toFolded would write, and the deepest sampled stack, in one pass over the
 * nodes. Folded stacks (and pprof) repeat every sampled stack in full, so a 200 000-deep chain
 * sampled at every frame would need 200 000² frames: this is the check before such work.
 */
export function foldedSize(model: StackModel): { chars: number; deepest: number } {
  const labels = model.frames.map((f) => label(f).length);
  const pathChars = new Array<number>(model.nodes.length);
  const depth = new Array<number>(model.nodes.length);
  pathChars[0] = 0;
  depth[0] = 0;
  let chars = 0;
  let deepest = 0;
  // Parents come before their children in `nodes`.
  for (let i = 1; i < model.nodes.length; i++) {
    const n = model.nodes[i]!;
    pathChars[i] = (n.parent > 0 ? pathChars[n.parent]! + 1 : 0) + labels[n.frame]!;
    depth[i] = depth[n.parent]! + 1;
    if (n.self > 0 && model.frames[n.frame]!.kind !== 'idle') {
      chars += pathChars[i]! + String(n.self).length + 2;
      if (depth[i]! > deepest) deepest = depth[i]!;
    }
  }
  return { chars, deepest };
}

function label(f: Frame): string {
  const name = (f.name || '(anonymous)').replace(/[;\r\n]/g, '_');
  if (!f.url) return name;
  let file = f.url;
  if (file.startsWith('file://')) {
    try {
      file = fileURLToPath(file);
    } catch {
      // keep the URL
    }
  }
  return `${name} ${file.replace(/[;\r\n ]/g, '_')}:${f.line}`;
}
