/**
 * Whether an `Accept` header lets the gateway answer with JSON, decided as Apollo Server decides
 * it. Apollo negotiates the response type only after it has executed the operation (its
 * `chooseContentTypeForSingleResultResponse`), so a request it refuses with 406 has already made
 * its upstream calls and been logged as `ok`; the gateway asks this first and refuses up front.
 *
 * The rules are those of the `negotiator` package Apollo uses, kept to what a JSON answer needs:
 * for each type Apollo can answer with, the most specific matching range decides (exact type
 * over `type/*` over `*\/*`, a range with parameters over one without); every parameter of a
 * range but `q` must equal the type's own (Apollo's types carry `charset=utf-8`); a `q` that is
 * 0 or not a number refuses. An absent or empty header accepts JSON.
 */

interface MediaType {
  type: string;
  subtype: string;
  params: Map<string, string>;
}

interface MediaRange extends MediaType {
  q: number;
  index: number;
}

/** Splits on `separator` outside double quotes. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && quoted) i += 1;
    else if (c === separator && !quoted) { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts;
}

const unquote = (value: string): string => (value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value);

function toMediaType(text: string): MediaType | undefined {
  const [essence = '', ...rawParams] = splitOutsideQuotes(text, ';');
  const slash = essence.indexOf('/');
  if (slash === -1) return undefined;
  const params = new Map<string, string>();
  for (const raw of rawParams) {
    const eq = raw.indexOf('=');
    const key = (eq === -1 ? raw : raw.slice(0, eq)).trim().toLowerCase();
    if (key !== '') params.set(key, eq === -1 ? '' : unquote(raw.slice(eq + 1).trim()));
  }
  return { type: essence.slice(0, slash).trim().toLowerCase(), subtype: essence.slice(slash + 1).trim().toLowerCase(), params };
}

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  splitOutsideQuotes(header, ',').forEach((part, index) => {
    const media = toMediaType(part);
    if (!media) return;
    const q = media.params.has('q') ? Number.parseFloat(media.params.get('q')!) : 1;
    media.params.delete('q');
    ranges.push({ ...media, q, index });
  });
  return ranges;
}

/** How specifically `range` matches `type` (higher is more specific), or undefined when it does not. */
function specificity(type: MediaType, range: MediaRange): number | undefined {
  let s = 0;
  if (range.type === type.type) s |= 4;
  else if (range.type !== '*') return undefined;
  if (range.subtype === type.subtype) s |= 2;
  else if (range.subtype !== '*') return undefined;
  if (range.params.size > 0) {
    for (const [key, value] of range.params) if (value !== '*' && value.toLowerCase() !== (type.params.get(key) ?? '').toLowerCase()) return undefined;
    s |= 1;
  }
  return s;
}

/** The quality the header gives `type`: that of its most specific matching range (the later one on a tie), 0 when none matches. */
function qualityOf(type: MediaType, ranges: readonly MediaRange[]): number {
  let best = { s: 0, q: 0, index: -1 };
  for (const range of ranges) {
    const s = specificity(type, range);
    // negotiator's comparison, NaN and all: a NaN difference falls through to the next key.
    if (s !== undefined && ((best.s - s) || (best.q - range.q) || (best.index - range.index)) < 0) best = { s, q: range.q, index: range.index };
  }
  return best.q;
}

/** The types Apollo answers a single result with (its MEDIA_TYPES). */
const JSON_TYPES: readonly MediaType[] = [
  'application/json; charset=utf-8',
  'application/graphql-response+json; charset=utf-8',
  'application/json; callbackSpec=1.0; charset=utf-8',
].map((text) => toMediaType(text)!);

/** Whether an answer in JSON (any of the types Apollo sends a single result as) is acceptable. */
export function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept === '') return true;
  const ranges = parseAccept(accept);
  return JSON_TYPES.some((type) => qualityOf(type, ranges) > 0);
}
