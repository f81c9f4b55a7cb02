/**
 * A STAND-IN for the shared poll (src/live/), for tests of the live transports only: it polls
 * nothing, and yields the events a test pushes to every open watch. What those tests check is
 * the transport (delivery, credentials reaching the context, origin refusals, limits, shutdown,
 * error delivery), so the source of the events is the test's own. Tests of the poll itself use
 * the real one against the simulator.
 */
import { EventEmitter, once } from 'node:events';

import type { BackupFilter } from '../../src/backups/model';
import type { GatewayContext } from '../../src/context';
import type { BackupChangeEvent, LiveSource } from '../../src/live/source';

/** One `watch()` call: what it was given, and whether its subscriber has left. */
export class StandInWatch implements AsyncIterableIterator<BackupChangeEvent> {
  closed = false;
  private readonly queue: Array<{ event: BackupChangeEvent } | { error: unknown }> = [];
  private waiting: ((step: IteratorResult<BackupChangeEvent>) => void) | undefined;
  private failWaiting: ((error: unknown) => void) | undefined;

  constructor(readonly context: GatewayContext, readonly instanceId: string, readonly filter: BackupFilter, private readonly onClose: () => void) {}

  deliver(item: { event: BackupChangeEvent } | { error: unknown }): void {
    if (this.closed) return;
    const resolve = this.waiting;
    const reject = this.failWaiting;
    if (!resolve || !reject) { this.queue.push(item); return; }
    this.waiting = undefined;
    this.failWaiting = undefined;
    if ('event' in item) resolve({ done: false, value: item.event });
    else { this.close(); reject(item.error); }
  }

  next(): Promise<IteratorResult<BackupChangeEvent>> {
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    const item = this.queue.shift();
    if (item && 'event' in item) return Promise.resolve({ done: false, value: item.event });
    if (item) { this.close(); return Promise.reject(item.error); }
    return new Promise((resolve, reject) => { this.waiting = resolve; this.failWaiting = reject; });
  }

  /** As the contract asks: leaves at once, ending a pending `next()`. */
  return(): Promise<IteratorResult<BackupChangeEvent>> {
    this.close();
    this.waiting?.({ done: true, value: undefined });
    this.waiting = undefined;
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}

export class StandInLiveSource implements LiveSource {
  readonly watches: StandInWatch[] = [];
  private readonly changes = new EventEmitter();

  watch(context: GatewayContext, instanceId: string, filter: BackupFilter): StandInWatch {
    const watch = new StandInWatch(context, instanceId, filter, () => this.changes.emit('change'));
    this.watches.push(watch);
    this.changes.emit('change');
    return watch;
  }

  get open(): StandInWatch[] {
    return this.watches.filter((w) => !w.closed);
  }

  /** Sends an event to every open watch. */
  push(event: BackupChangeEvent): void {
    for (const w of this.open) w.deliver({ event });
  }

  /** Ends every open watch with this error, as the poll does on NOT_FOUND. */
  fail(error: unknown): void {
    for (const w of this.open) w.deliver({ error });
  }

  /** Resolves once `count` watches are open (and watches were made at all). */
  async untilOpen(count: number): Promise<StandInWatch[]> {
    while (this.open.length !== count) await once(this.changes, 'change');
    return this.open;
  }
}
