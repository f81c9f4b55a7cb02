/**
 * Opaque, versioned cursors bound to the list they came from, anchored on the backup they point at.
 *
 * Wire format (pinned by tests; change it only with a new version): base64url of
 * `v2:<binding>:<offset>:<beginTime seconds>:<backup id>`. `<binding>` is 12 base64url characters
 * of the SHA-256 of the list's identity (instance, project, filter): a cursor replayed against
 * another list fails the binding check instead of silently serving a wrong page. The id and time
 * let the gateway find the backup again when newer backups have shifted the offsets.
 *
 * Version 1 (`v1:<binding>:<offset>`, before anchors existed) is still read, as an offset alone.
 *
 * The binding is an unkeyed hash of public values: it catches a cursor replayed on another list,
 * not a forged one. It is not keyed on purpose: a minted cursor only chooses an offset in a list
 * its caller may page through anyway (the upstream checks the caller's credentials on every call),
 * and a key would have to be shared by every replica and kept across restarts for cursors to
 * survive. What a minted offset could cost, calls at offsets the upstream refuses, is refused
 * before any call (backups/relocation.ts).
 */
import { createHash } from 'node:crypto';

import { InvalidInputError } from '../errors/domain';

const MAX_CURSOR_LENGTH = 256;
const MAX_OFFSET = 2 ** 31 - 1;

/** Where a cursor points: an offset, and (from version 2) the backup that was there. */
export interface CursorPosition {
  offset: number;
  /** The backup at `offset` when the cursor was made. */
  id?: string;
  /** That backup's begin time, in epoch seconds. */
  time?: number;
}

/**
 * Bindings already worked out, by identity: a BFF pages through the same few lists over and
 * over, and a SHA-256 costs about 5 µs in Node 20 (once per page request). Emptied when full.
 */
const bindings = new Map<string, string>();
const MAX_BINDINGS = 10_000;

/** The binding of a list: a short hash of the parts that identify it. */
export function cursorBinding(parts: readonly string[]): string {
  const identity = parts.join('\u0000');
  let binding = bindings.get(identity);
  if (binding === undefined) {
    binding = createHash('sha256').update(identity).digest('base64url').slice(0, 12);
    if (bindings.size >= MAX_BINDINGS) bindings.clear();
    bindings.set(identity, binding);
  }
  return binding;
}

export function toCursor(binding: string, position: Required<CursorPosition>): string {
  return Buffer.from(`v2:${binding}:${position.offset}:${position.time}:${position.id}`).toString('base64url');
}

const isOffset = (s: string | undefined): s is string => s !== undefined && /^(0|[1-9]\d{0,9})$/.test(s) && Number(s) <= MAX_OFFSET;

/**
 * The position a cursor points at. Throws `InvalidInputError` when it does not decode, has an
 * unknown version, or belongs to another list. Never falls back to a default.
 */
export function fromCursor(cursor: string, binding: string, argument: 'after' | 'before'): CursorPosition {
  const bad = (why: string): InvalidInputError => new InvalidInputError(`Argument "${argument}" is not a valid cursor: ${why}.`);
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad('it does not decode');
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const [version, cursorBindingValue, offset, time, ...idParts] = text.split(':');
  if (version !== 'v1' && version !== 'v2') throw bad(version !== undefined && /^v\d+$/.test(version) ? `version ${version} is not supported` : 'it does not decode');
  if (cursorBindingValue === undefined || !isOffset(offset)) throw bad('it does not decode');
  if (cursorBindingValue !== binding) throw bad('it belongs to another instance, project or filter');
  if (version === 'v1') {
    if (time !== undefined) throw bad('it does not decode');
    return { offset: Number(offset) };
  }
  const id = idParts.join(':');
  if (time === undefined || !/^-?\d{1,12}$/.test(time) || id === '') throw bad('it does not decode');
  return { offset: Number(offset), time: Number(time), id };
}
