import * as fs from 'node:fs';

export type CappedRead =
  | { kind: 'missing' }
  | { kind: 'ok'; text: string; mtimeMs: number }
  | { kind: 'bad'; reason: string };

/**
 * Reads a file that someone else may have put there, without letting it hang or exhaust the
 * process: a FIFO with no writer would block a plain read forever, `/dev/zero` never ends, a
 * directory or socket is not a file at all. So: open without blocking (O_NONBLOCK: a FIFO opens at
 * once), look at what was opened (fstat of the fd, so a swap between a check and the open changes
 * nothing), accept only a regular file under `maxBytes`, and read at most `maxBytes + 1` bytes in
 * case it grows meanwhile. Symbolic links are followed: Kubernetes mounts ConfigMaps and Secrets
 * through them. Synchronous: the agent reads on its start-up and exit paths.
 */
export function readCapped(file: string, maxBytes: number): CappedRead {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: the directory itself is no directory (the writer says so when it tries to create it).
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    // A Unix socket cannot be opened at all (ENXIO).
    if (code === 'ENXIO') return { kind: 'bad', reason: 'it is a socket, not a file' };
    return { kind: 'bad', reason: `it cannot be opened (${code ?? (error as Error).message})` };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { kind: 'bad', reason: `it is ${describeKind(st)}, not a regular file` };
    if (st.size > maxBytes) return { kind: 'bad', reason: `it is ${st.size} bytes, more than the ${maxBytes} a profile may have` };
    // A file may grow after fstat: read on until its end, but never past the cap.
    let buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, st.size + 1));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) return { kind: 'bad', reason: `it grew past the ${maxBytes} bytes a profile may have while being read` };
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buffer.length * 2 + 4096));
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return { kind: 'ok', text: buffer.toString('utf8', 0, length), mtimeMs: st.mtimeMs };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { kind: 'bad', reason: `it cannot be read (${code ?? (error as Error).message})` };
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // Nothing to do about a close that fails on a read-only descriptor.
    }
  }
}

function describeKind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}
