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
