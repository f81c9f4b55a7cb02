/**
 * Opaque, versioned cursors bound to the list they came from.
 *
 * Wire format (pinned by tests; change it only with a new version): base64url of
 * `v1:<binding>:<offset>`, where `<binding>` is 12 base64url characters of the SHA-256 of the
 * list's identity (instance, project, filter). A cursor replayed against another list fails the
 * binding check instead of silently serving a wrong page.
 */
import { createHash } from 'node:crypto';

import { InvalidInputError } from '../errors/domain';

const VERSION = 'v1';
const MAX_CURSOR_LENGTH = 128;

/** The binding of a list: a short hash of the parts that identify it. */
export function cursorBinding(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 12);
}

export function offsetToCursor(binding: string, offset: number): string {
  return Buffer.from(`${VERSION}:${binding}:${offset}`).toString('base64url');
}

/**
 * The offset a cursor points at. Throws `InvalidInputError` when it does not decode, has another
 * version, or belongs to another list. Never falls back to a default.
 */
export function cursorToOffset(cursor: string, binding: string, argument: 'after' | 'before'): number {
  const bad = (why: string): InvalidInputError => new InvalidInputError(`Argument "${argument}" is not a valid cursor: ${why}.`);
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad('it does not decode');
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  if (parts.length !== 3) throw bad('it does not decode');
  const [version, cursorBindingValue, offsetText] = parts as [string, string, string];
  if (version !== VERSION) throw bad(`version ${JSON.stringify(version.slice(0, 8))} is not supported`);
  if (cursorBindingValue !== binding) throw bad('it belongs to another instance, project or filter');
  if (!/^(0|[1-9]\d{0,9})$/.test(offsetText) || Number(offsetText) > 2 ** 31 - 1) throw bad('it does not decode');
  return Number(offsetText);
}
