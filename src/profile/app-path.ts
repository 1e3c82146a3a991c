import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * A profile's `file` for a script URL: relative to the app root (with '/') when inside it, so a
 * profile recorded in one checkout applies in another; absolute otherwise; `node:…` kept as is.
 * Returns null for code with no file (natives, `eval`, `new Function`).
 */
export function toAppFile(url: string, root: string): string | null {
  if (url.startsWith('node:')) return url;
  let abs: string;
  if (url.startsWith('file://')) {
    try {
      abs = fileURLToPath(url);
    } catch {
      return null;
    }
  } else if (path.isAbsolute(url)) {
    abs = url;
  } else {
    return null;
  }
  const rel = path.relative(root, abs);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return abs;
  return rel.split(path.sep).join('/');
}

/** The absolute path of a profile's `file`, or null for `node:` modules. */
export function fromAppFile(file: string, root: string): string | null {
  if (file.startsWith('node:')) return null;
  return path.isAbsolute(file) ? file : path.join(root, ...file.split('/'));
}

/** The URL V8 reports for a profile's `file`. */
export function appFileUrl(file: string, root: string): string {
  const abs = fromAppFile(file, root);
  return abs === null ? file : pathToFileURL(abs).href;
}
