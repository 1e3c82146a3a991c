/**
 * What a request's target looks like with its values taken out: `GET /products/:id?_embed`, from
 * `GET /products/17?_embed=reviews`. Real traffic spreads over many targets of a few routes (an id
 * per product, a search term per query): judged one by one, no few of them carry most of it, while
 * their routes do. Path segments that are ids (numbers, UUIDs, long hex or base64 tokens) become
 * `:id`; the query keeps its parameter names, sorted, without values. Other path segments stay:
 * `/products` and `/orders` are different routes.
 */
export function routeShape(method: string, url: string): string {
  const hash = url.indexOf('#');
  const target = hash === -1 ? url : url.slice(0, hash);
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const segments = path.split('/').map((s) => (isId(s) ? ':id' : s));
  const names = q === -1 ? [] : [...new Set(target.slice(q + 1).split('&').filter(Boolean).map((p) => p.split('=')[0]!))].sort();
  return `${method} ${segments.join('/')}${names.length ? `?${names.join('&')}` : ''}`;
}

function isId(segment: string): boolean {
  return (
    /^\d+$/.test(segment) ||
    /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(segment) ||
    // Long tokens with digits in them (hex ids, base64url ids): words and slugs have none, or few.
    (segment.length >= 12 && /^[A-Za-z0-9_-]+$/.test(segment) && (segment.match(/\d/g)?.length ?? 0) >= 3)
  );
}
