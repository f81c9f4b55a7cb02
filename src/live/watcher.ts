/**
 * One watcher of a live key: the async iterator `LiveSource.watch()` returns. The key's poll
 * pushes events into it; the transport pulls them. Events queue while the transport is busy
 * sending (each poll adds at most one window's worth), an error ends it after the events queued
 * before it, and `return()` (the subscriber left) tells the poll once.
 */
import { GraphQLError } from 'graphql';

import { ErrorCode } from '../errors/codes';
import type { BackupChangeEvent } from './source';

/**
 * Events a watcher may hold unsent: ten polls' worth of a full window. A subscriber that reads
 * slower than its key changes (while it answers pings) would otherwise grow its queue for good;
 * past this it is ended with RATE_LIMITED, to resubscribe and query afresh.
 */
export const MAX_QUEUED_EVENTS = 1000;

interface Pending {
  resolve: (result: IteratorResult<BackupChangeEvent>) => void;
  reject: (error: unknown) => void;
}

const DONE: IteratorResult<BackupChangeEvent> = { done: true, value: undefined };

export class Watcher implements AsyncIterableIterator<BackupChangeEvent> {
  private readonly queue: BackupChangeEvent[] = [];
  private pending: Pending | undefined;
  /** Set once: the error to throw after the queue (or null: end without one). */
  private ending: { error: unknown } | null | undefined;
  private finished = false;

  /** `onLeave` runs once, when the subscriber leaves before the watch ended (`return()` or `throw()`). */
  constructor(private readonly onLeave: () => void) {}

  /** Whether it still takes events: neither ended nor left. */
  get open(): boolean {
    return this.ending === undefined && !this.finished;
  }

  push(event: BackupChangeEvent): void {
    if (!this.open) return;
    if (this.pending) {
      const { resolve } = this.pending;
      this.pending = undefined;
      resolve({ done: false, value: event });
    } else if (this.queue.length < MAX_QUEUED_EVENTS) {
      this.queue.push(event);
    } else {
      this.queue.length = 0; // what it missed is lost either way: the error comes next
      this.end(new GraphQLError(`The subscriber fell ${MAX_QUEUED_EVENTS} events behind its changes: subscribe again, then query.`, { extensions: { code: ErrorCode.RATE_LIMITED } }));
      this.onLeave(); // it leaves the key's poll now: after the error, no return() may come
    }
  }

  /** Ends the watch: the events queued are still delivered, then `error` is thrown (or the iterator is done). */
  end(error?: unknown): void {
    if (!this.open) return;
    this.ending = error === undefined ? null : { error };
    if (this.pending) {
      const pending = this.pending;
      this.pending = undefined;
      this.settleEnd(pending);
    }
  }

  next(): Promise<IteratorResult<BackupChangeEvent>> {
    const event = this.queue.shift();
    if (event !== undefined) return Promise.resolve({ done: false, value: event });
    if (this.finished) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      const pending = { resolve, reject };
      if (this.ending !== undefined) this.settleEnd(pending);
      else this.pending = pending;
    });
  }

  return(): Promise<IteratorResult<BackupChangeEvent>> {
    this.leave();
    return Promise.resolve(DONE);
  }

  throw(): Promise<IteratorResult<BackupChangeEvent>> {
    this.leave();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private settleEnd(pending: Pending): void {
    const ending = this.ending;
    this.finished = true;
    if (ending) pending.reject(ending.error);
    else pending.resolve(DONE);
  }

  private leave(): void {
    const wasOpen = this.open;
    this.finished = true;
    this.queue.length = 0;
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve(DONE);
    if (wasOpen) this.onLeave();
  }
}
