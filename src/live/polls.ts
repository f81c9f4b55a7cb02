/**
 * The one shared poll per live key (DESIGN.md, "Live changes"): `LivePolls` is the LiveSource
 * that `Subscription.backupChanges` reads. A key is the caller identity, project, instance and
 * filter; however many watchers it has, one poll reads its newest 100 rows, fresh, every
 * interval (stretched to half the identity's budget, pace.ts), computes the changes
 * (changes.ts) and hands them to every watcher (watcher.ts). The poll starts with the key's
 * first watcher and stops when its last one leaves.
 *
 * The two halves meet in `deliver()`: a poll produces LiveMessages for its key, the key's
 * watchers consume them. Which replica polls a key is the coordination's call (coordination.ts):
 * this replica alone by default; with Redis (redis-coordination.ts) the replica holding the
 * key's lock polls and publishes its messages through the key's link, and the other replicas'
 * watchers get them through `receive`.
 */
import { GraphQLError } from 'graphql';

import { BudgetExhaustedError } from '../errors/domain';
import { ErrorCode } from '../errors/codes';
import { toPublicError } from '../errors/format';
import { filterKey } from '../backups/filter';
import type { Backup, BackupFilter } from '../backups/model';
import type { NewestRowsReader } from '../backups/service';
import { Canceller } from '../cancel';
import { BUDGET_WINDOW_MS } from '../shared-upstream/store';
import type { GatewayContext } from '../context';
import type { Logger } from '../logger';
import type { Tracing } from '../observability/tracing';
import { toChanges } from './changes';
import { localCoordination, type LiveCoordination, type LiveLink } from './coordination';
import { IdentityPace, pollInterval, pollsPerMinute } from './pace';
import type { BackupChangeEvent, LiveSource } from './source';
import { Watcher } from './watcher';

/** What one poll came to: `skipped` when the budget could not pay it (nothing was sent). */
export type LivePollOutcome = 'ok' | 'failed' | 'ended' | 'skipped';

/** Timers and the clock of the polls: injected, so tests drive them without waiting. */
export interface LiveScheduler {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's clock and timers; a pending poll does not keep the process alive. */
export const systemScheduler: LiveScheduler = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** What a key's poll tells its watchers: the changes of one poll, or the end of the watch. */
export type LiveMessage = { kind: 'changes'; events: BackupChangeEvent[] } | { kind: 'end'; error: GraphQLError };

export interface LivePollsOptions {
  /** LIVE_POLL_INTERVAL_MS: the shortest interval between two polls of a key. */
  intervalMs: number;
  /** UPSTREAM_BUDGET_PER_MINUTE: an identity's polls take at most half of it. */
  budgetPerMinute: number;
  /** MAX_LIVE_WATCHES: distinct keys watched on this replica at once (polled here or, with Redis, by another); a watch of one more is refused with RATE_LIMITED. */
  maxKeys: number;
  /** How long one poll may take, retries included. @default intervalMs */
  pollTimeoutMs?: number;
  /** @default systemScheduler */
  scheduler?: LiveScheduler;
  /** Which replica polls each key. @default localCoordination (this one, always) */
  coordination?: LiveCoordination;
  logger?: Logger;
  /** Told of every poll's outcome (metrics). */
  onPoll?: (outcome: LivePollOutcome) => void;
  /** Told the number of keys this replica polls whenever it changes (metrics); with Redis, the keys it watches and another replica polls are not counted. */
  onPollers?: (active: number) => void;
  /** Each poll a root span, its attempts its children (a poll belongs to no request). @default none */
  tracing?: Tracing;
}

/** A failure of a poll with one of these codes ends every watch of its key; any other is retried. */
const ENDING_CODES = new Set<string>([ErrorCode.NOT_FOUND, ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN]);

/** One live key: its watchers and its poll. */
interface LiveKey {
  key: string;
  identity: string;
  reader: NewestRowsReader;
  watchers: Set<Watcher>;
  /** The window of the last poll that succeeded; undefined until the first (the baseline). */
  previous?: Backup[];
  timer?: unknown;
  /** Cancels the poll in flight when the key stops. */
  inFlight?: Canceller;
  stopped: boolean;
  /** Whether this replica polls the key (the coordination said `lead`, not `follow` since). */
  leading: boolean;
  /** Counts `lead`s and `follow`s: a poll started before one of them is dropped when it answers. */
  epoch: number;
  link?: LiveLink;
}

/** An error as a subscriber sees it: a GraphQLError with the public code (unknown errors masked). */
export function toLiveError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  const mapped = toPublicError(error);
  if (!mapped) return new GraphQLError('Internal server error', { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } });
  return new GraphQLError(mapped.message, { originalError: error instanceof Error ? error : undefined, extensions: { code: mapped.code, ...mapped.extensions } });
}

/** A watcher that is over before it began (refused): its first `next()` throws `error`. */
function refused(error: GraphQLError): Watcher {
  const watcher = new Watcher(() => undefined);
  watcher.end(error);
  return watcher;
}

export class LivePolls implements LiveSource {
  private readonly keys = new Map<string, LiveKey>();
  private readonly paces = new Map<string, IdentityPace>();
  private readonly scheduler: LiveScheduler;
  private readonly pollTimeoutMs: number;
  private readonly coordination: LiveCoordination;
  /** Keys this replica polls (leads). */
  private polled = 0;

  constructor(private readonly options: LivePollsOptions) {
    this.scheduler = options.scheduler ?? systemScheduler;
    this.pollTimeoutMs = options.pollTimeoutMs ?? options.intervalMs;
    this.coordination = options.coordination ?? localCoordination;
  }

  /**
   * Joins the key's poll, starting it (its first poll at once: the baseline) when this is its
   * first watcher. Never throws: a watch that cannot start (a bad id, no project or credentials,
   * MAX_LIVE_WATCHES reached) is an iterator whose first `next()` throws the GraphQLError.
   */
  watch(context: GatewayContext, instanceId: string, filter: BackupFilter): AsyncIterableIterator<BackupChangeEvent> {
    let reader: NewestRowsReader;
    try {
      reader = context.backups.newestRows(instanceId, filter);
    } catch (error) {
      return refused(toLiveError(error));
    }
    const key = [reader.identity, reader.project, instanceId, filterKey(filter)].join('\u0000');
    let live = this.keys.get(key);
    if (!live) {
      if (this.keys.size >= this.options.maxKeys) {
        const retryAfterSeconds = Math.ceil(this.options.intervalMs / 1000);
        return refused(new GraphQLError('This gateway watches as many instances as it may (MAX_LIVE_WATCHES); retry later.', { extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds } }));
      }
      live = this.start(key, reader);
    }
    const watching = live;
    const watcher = new Watcher(() => this.leave(watching, watcher));
    watching.watchers.add(watcher);
    return watcher;
  }

  /** Keys watched on this replica now (with Redis, those another replica polls included). */
  get activeKeys(): number {
    return this.keys.size;
  }

  /** Ends every watch (iterators done, no error) and stops every poll: shutdown. */
  close(): void {
    for (const live of [...this.keys.values()]) {
      for (const watcher of live.watchers) watcher.end();
      this.stop(live);
    }
  }

  /** Hands a poll's message (this replica's, or received from the one polling the key) to every watcher of the key here. */
  private deliver(live: LiveKey, message: LiveMessage): void {
    for (const watcher of live.watchers) {
      if (message.kind === 'end') watcher.end(message.error);
      else for (const event of message.events) watcher.push(event);
    }
  }

  private start(key: string, reader: NewestRowsReader): LiveKey {
    const live: LiveKey = { key, identity: reader.identity, reader, watchers: new Set(), stopped: false, leading: false, epoch: 0 };
    this.keys.set(key, live);
    let pace = this.paces.get(live.identity);
    if (!pace) {
      pace = new IdentityPace(pollsPerMinute(this.options.budgetPerMinute));
      this.paces.set(live.identity, pace);
    }
    pace.keys += 1;
    live.link = this.coordination.join(key, {
      lead: (previous) => this.setLeading(live, true, previous),
      follow: () => this.setLeading(live, false),
      receive: (message) => {
        if (live.stopped) return;
        this.deliver(live, message);
        if (message.kind === 'end') this.stop(live);
      },
    });
    return live;
  }

  /** The coordination's word: poll the key from now on (at once, from `previous`), or stop polling it. */
  private setLeading(live: LiveKey, leading: boolean, previous?: Backup[]): void {
    if (live.stopped) return;
    live.epoch += 1;
    this.countPolled(live, leading);
    if (live.timer !== undefined) this.scheduler.clearTimeout(live.timer);
    live.timer = undefined;
    live.inFlight?.abort();
    live.inFlight = undefined;
    if (leading) {
      live.previous = previous;
      this.schedule(live, 0);
    }
  }

  private leave(live: LiveKey, watcher: Watcher): void {
    live.watchers.delete(watcher);
    if (live.watchers.size === 0) this.stop(live);
  }

  private stop(live: LiveKey): void {
    if (live.stopped) return;
    live.stopped = true;
    if (live.timer !== undefined) this.scheduler.clearTimeout(live.timer);
    live.inFlight?.abort();
    live.link?.leave();
    this.countPolled(live, false);
    this.keys.delete(live.key);
    const pace = this.paces.get(live.identity)!;
    pace.keys -= 1;
    // The pace stays while its calls of the last minute still count: a key that stops and starts
    // again must not poll as if they had not been made.
    if (pace.keys === 0) this.forgetWhenIdle(live.identity, pace);
  }

  private countPolled(live: LiveKey, leading: boolean): void {
    if (live.leading === leading) return;
    live.leading = leading;
    this.polled += leading ? 1 : -1;
    this.options.onPollers?.(this.polled);
  }

  /** Forgets an identity's pace once it has no keys and no call of the last minute. */
  private forgetWhenIdle(identity: string, pace: IdentityPace): void {
    this.scheduler.setTimeout(() => {
      if (pace.keys > 0 || this.paces.get(identity) !== pace) return;
      if (pace.idle(this.scheduler.now())) this.paces.delete(identity);
      else this.forgetWhenIdle(identity, pace);
    }, BUDGET_WINDOW_MS + 1);
  }

  private schedule(live: LiveKey, ms: number): void {
    live.timer = this.scheduler.setTimeout(() => {
      live.timer = undefined;
      this.poll(live);
    }, ms);
  }

  /** One poll of a key, unless its identity's polls have spent their half of the budget: then it is held back until they have not. */
  private poll(live: LiveKey): void {
    if (live.stopped || !live.leading) return;
    const pace = this.paces.get(live.identity)!;
    const wait = pace.waitMs(this.scheduler.now());
    if (wait > 0) {
      this.schedule(live, wait);
      return;
    }
    pace.record(this.scheduler.now());
    const cancel = new Canceller();
    live.inFlight = cancel;
    let attempts = 0;
    const epoch = live.epoch;
    const current = (): boolean => !live.stopped && live.epoch === epoch;
    const onAttempt = (): void => {
      attempts += 1;
      if (attempts > 1) pace.record(this.scheduler.now()); // a retry is a call too
    };
    const trace = this.options.tracing?.enabled ? this.options.tracing.startPoll(live.watchers.size) : undefined;
    let outcome: LivePollOutcome | undefined;
    live.reader.read({ deadline: Date.now() + this.pollTimeoutMs, signal: cancel.signal, onAttempt, trace: trace?.calls }).then(
      ({ rows, totalCount }) => {
        if (!current()) return;
        const events = toChanges(live.previous, rows).map((change) => ({ ...change, totalCount }));
        live.previous = rows;
        outcome = 'ok';
        this.options.onPoll?.('ok');
        const message = events.length > 0 ? { kind: 'changes', events } as const : undefined;
        if (message) this.deliver(live, message);
        if (!live.stopped) live.link?.publish(message, rows); // its last watcher may have left while it was told
      },
      (error: unknown) => {
        if (current()) outcome = this.failed(live, error, attempts);
      },
    ).finally(() => {
      trace?.end(outcome);
      if (!current()) return;
      live.inFlight = undefined;
      this.schedule(live, pollInterval(this.options.intervalMs, pace.keys, this.options.budgetPerMinute));
    });
  }

  /** A poll that failed: skipped (the budget could not pay, nothing was sent), the end of the key's watches, or retried at the next interval; says which. */
  private failed(live: LiveKey, error: unknown, attempts: number): LivePollOutcome {
    if (error instanceof BudgetExhaustedError && attempts === 0) {
      this.options.onPoll?.('skipped');
      return 'skipped';
    }
    const liveError = toLiveError(error);
    const code = liveError.extensions.code as string;
    if (ENDING_CODES.has(code)) {
      this.options.onPoll?.('ended');
      const message = { kind: 'end', error: liveError } as const;
      this.deliver(live, message);
      live.link?.publish(message);
      this.stop(live);
      return 'ended';
    }
    this.options.onPoll?.('failed');
    // Counted in metrics; at debug only, as an upstream outage fails every key's poll each interval.
    this.options.logger?.debug({ code, err: error instanceof Error ? error.name : 'unknown' }, 'live poll failed; retried at the next interval');
    return 'failed';
  }
}
