/**
 * Path globs for PREHEAT_REPLAY_PATHS and PREHEAT_SKIP_PATHS, matched against a request's path
 * (the query left out): `*` matches within one segment, `**` any number of segments, `?` one
 * character other than `/`. Everything else is literal. Small on purpose: the agent loads it at
 * every boot.
 */
export function globMatcher(globs: readonly string[]): (path: string) => boolean {
  if (globs.length === 0) return () => false;
  const patterns = globs.map(toRegExp);
  return (path) => patterns.some((p) => p.test(path));
}

function toRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `/**/` also matches `/`: `/api/**/users` takes `/api/users`.
      const slash = glob[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The path of a request target, without its query. */
export function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}
