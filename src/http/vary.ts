/**
 * The `Vary` header of a Reply, which several layers add to (HTTP caching, compression, CORS):
 * each adds its names to what is there, none replaces it.
 */

/** `headers` with `names` added to their `vary` (once each, compared without case; `*` absorbs all). */
export function withVary(headers: Record<string, string>, ...names: string[]): Record<string, string> {
  const present = (headers.vary ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  if (present.includes('*')) return headers;
  const known = new Set(present.map((n) => n.toLowerCase()));
  const added: string[] = [];
  for (const name of names) {
    if (known.has(name.toLowerCase())) continue;
    known.add(name.toLowerCase());
    added.push(name);
  }
  return added.length === 0 ? headers : { ...headers, vary: [...present, ...added].join(', ') };
}
