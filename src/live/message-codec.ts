/**
 * LiveMessages and poll windows as JSON, for Redis (redis-coordination.ts): the poller's replica
 * publishes each message, stores each window, and the other replicas revive them.
 *
 * Faithful both ways: a Backup's `beginTime` and `endTime` are Dates, which JSON turns into
 * strings; they are revived by field, never by a reviver that turns any ISO-looking string into
 * a Date (a backup *named* like an instant must stay a string). An end-of-watch GraphQLError
 * travels as its message and extensions (code, upstream, retryAfterSeconds), which is all a
 * subscriber sees of it. Text that is not what this file writes (another version, garbage)
 * throws a LiveWireError: the receiver drops it rather than hand a watcher half a backup.
 */
import { GraphQLError } from 'graphql';

import type { Backup } from '../backups/model';
import type { LiveMessage } from './polls';
import type { BackupChangeEvent } from './source';

/** Bumped when the wire shape changes: replicas of another version ignore each other's messages. */
const WIRE_VERSION = 1;

export class LiveWireError extends Error {
  override readonly name = 'LiveWireError';
}

type WireBackup = Omit<Backup, 'beginTime' | 'endTime'> & { beginTime: string; endTime: string | null };

/** A message as published: who sent it, so that its sender can skip its own. */
export interface SentMessage {
  from: string;
  message: LiveMessage;
}

const toWireBackup = (backup: Backup): WireBackup => ({ ...backup, beginTime: backup.beginTime.toISOString(), endTime: backup.endTime?.toISOString() ?? null });

function toDate(value: unknown, field: string): Date {
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) throw new LiveWireError(`${field} is not an instant`);
  return date;
}

function fromWireBackup(value: unknown): Backup {
  if (typeof value !== 'object' || value === null) throw new LiveWireError('a backup is not an object');
  const wire = value as Record<string, unknown>;
  if (typeof wire.id !== 'string' || typeof wire.instanceId !== 'string') throw new LiveWireError('a backup has no id');
  return { ...(wire as unknown as WireBackup), beginTime: toDate(wire.beginTime, 'beginTime'), endTime: wire.endTime === null ? null : toDate(wire.endTime, 'endTime') };
}

function fromWireEvent(value: unknown): BackupChangeEvent {
  const wire = (value ?? {}) as Record<string, unknown>;
  if (wire.kind !== 'ADDED' && wire.kind !== 'UPDATED' && wire.kind !== 'REMOVED') throw new LiveWireError('an event has no kind');
  if (typeof wire.totalCount !== 'number') throw new LiveWireError('an event has no totalCount');
  return { kind: wire.kind, totalCount: wire.totalCount, backup: fromWireBackup(wire.backup) };
}

function parse(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LiveWireError('not JSON');
  }
  if (typeof value !== 'object' || value === null || (value as { v?: unknown }).v !== WIRE_VERSION) throw new LiveWireError('not a live message of this version');
  return value as Record<string, unknown>;
}

/** The JSON published for `message`, sent by replica `from`. */
export function encodeMessage(from: string, message: LiveMessage): string {
  if (message.kind === 'end') {
    return JSON.stringify({ v: WIRE_VERSION, from, kind: 'end', error: { message: message.error.message, extensions: message.error.extensions } });
  }
  return JSON.stringify({ v: WIRE_VERSION, from, kind: 'changes', events: message.events.map((event) => ({ ...event, backup: toWireBackup(event.backup) })) });
}

/** The message `encodeMessage()` wrote. @throws LiveWireError for anything else */
export function decodeMessage(text: string): SentMessage {
  const wire = parse(text);
  if (typeof wire.from !== 'string') throw new LiveWireError('a message has no sender');
  if (wire.kind === 'changes' && Array.isArray(wire.events)) return { from: wire.from, message: { kind: 'changes', events: wire.events.map(fromWireEvent) } };
  const error = wire.error as { message?: unknown; extensions?: unknown } | undefined;
  if (wire.kind === 'end' && typeof error?.message === 'string' && typeof error.extensions === 'object' && error.extensions !== null) {
    return { from: wire.from, message: { kind: 'end', error: new GraphQLError(error.message, { extensions: error.extensions as Record<string, unknown> }) } };
  }
  throw new LiveWireError('a message is neither changes nor an end');
}

/** The JSON stored for a poll's window. */
export function encodeWindow(rows: readonly Backup[]): string {
  return JSON.stringify({ v: WIRE_VERSION, rows: rows.map(toWireBackup) });
}

/** The window `encodeWindow()` wrote. @throws LiveWireError for anything else */
export function decodeWindow(text: string): Backup[] {
  const wire = parse(text);
  if (!Array.isArray(wire.rows)) throw new LiveWireError('a window has no rows');
  return wire.rows.map(fromWireBackup);
}
