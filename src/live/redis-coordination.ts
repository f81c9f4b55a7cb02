/**
 * One live poll per key across all replicas (DESIGN.md, "Live changes"): the LiveCoordination
 * used with REDIS_URL. Per key (hashed: nothing of the caller's identity in Redis), three Redis
 * names sharing one hash tag, so that the scripts below also run on a cluster:
 *
 * - `{prefix}live:{h}:lock`: which replica polls the key. Taken with SET NX PX, renewed while
 *   held, released (compare-and-delete) when the holder's last watcher leaves or at close. Only
 *   the holder polls.
 * - `{prefix}live:{h}:window`: the holder's last window, stored with each poll. A replica that
 *   takes the lock over reads it in the same script, so its first poll yields the changes since
 *   the last poll anyone made, never ADDED for the whole window (and no change is lost). Storing
 *   it beats sending it with every message: a window is ~100 backups, written once per poll but
 *   read only on a takeover. It lives `2 × lockTtlMs` past the last renewal, so a key watched
 *   again soon after its last watcher left may report the changes of that short gap (a client
 *   that subscribes, then queries, applies them idempotently).
 * - `{prefix}live:{h}:changes`: the pub/sub channel of the key's LiveMessages (message-codec.ts).
 *   Every replica with watchers of the key subscribes; the store of the window and the publish
 *   of the poll's changes are one script, run only while the lock is still the sender's, so a
 *   takeover neither repeats nor misses a poll's events.
 *
 * Takeover within two intervals (`I` = LIVE_POLL_INTERVAL_MS): the lock lives `lockTtlMs`
 * (default I/2) and every replica acts every `tickMs` (default lockTtlMs/3: the holder renews,
 * so one lost renewal does not lose the lock; the others try to take it). A holder that dies at
 * D renewed at most tickMs before, so its lock is gone by D + I/2, another replica has it by
 * D + I/2 + I/6 plus one round trip and polls at once. Its last poll was at most I before D, so
 * between two polls of the key there are at most 1.67 I plus a round trip: under 2 I while Redis
 * answers within I/3. A stretched interval (pace.ts) only widens the margin.
 *
 * Redis away: a key whose command fails is polled by this replica alone (from a baseline when it
 * was following: it has no window) and its watchers hear only this replica; its holder keeps
 * polling. While alone, each tick tries the lock again, and so does each poll's store: once Redis
 * answers, one replica holds it and the others follow. Meanwhile a replica polling alone still
 * tells its watchers what the holder publishes: a change may then reach them twice (once from
 * each poll), but is not lost. Health changes are logged once each way, as the shared store does.
 * Connections take the store's options (fail fast, never queue, keep reconnecting); pub/sub
 * needs a connection of its own, which resubscribes on every reconnect.
 */
import { createHash, randomBytes } from 'node:crypto';

import Redis from 'ioredis';

import type { Backup } from '../backups/model';
import type { Logger } from '../logger';
import { redisFallbackOptions } from '../shared-upstream/redis-store';
import type { LiveCoordination, LiveLink, LiveMember } from './coordination';
import { decodeMessage, decodeWindow, encodeMessage, encodeWindow } from './message-codec';
import { systemScheduler, type LiveMessage, type LiveScheduler } from './polls';

/** KEYS lock, window; ARGV token, ttl. {1, window} when taken now, {2} when already ours, {0} when another's. */
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, redis.call('GET', KEYS[2])} end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return {2} end
return {0}
`;

/** KEYS lock, window; ARGV token, ttl, window ttl. 1 when still ours (renewed), else 0. */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`;

/**
 * KEYS lock, window, channel; ARGV token, ttl, window ttl, window ('' none), message ('' none).
 * Takes the lock when it is free (a replica that polled alone while Redis was away, or whose
 * lock expired meanwhile, and that nobody took over); 0 when another replica holds it.
 */
const STORE = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3]) end
if ARGV[5] ~= '' then redis.call('PUBLISH', KEYS[3], ARGV[5]) end
return 1
`;

/** KEYS lock; ARGV token. The window stays (to its expiry) for a replica still watching the key. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type RedisWithLocks = Redis & {
  liveAcquire(lock: string, window: string, token: string, ttl: number): Promise<[number, string | null]>;
  liveRenew(lock: string, window: string, token: string, ttl: number, windowTtl: number): Promise<number>;
  liveStore(lock: string, window: string, channel: string, token: string, ttl: number, windowTtl: number, rows: string, message: string): Promise<number>;
  liveRelease(lock: string, token: string): Promise<number>;
};

/** This replica and one key: `joining` until Redis first answers; `alone` while Redis does not (this replica polls). */
type Role = 'joining' | 'leader' | 'follower' | 'alone';

interface Entry {
  member: LiveMember;
  lock: string;
  window: string;
  channel: string;
  token: string;
  role: Role;
  /** The key's Redis operations, one after the other (an acquire before the store it allows). */
  chain: Promise<void>;
  queued: number;
  left: boolean;
}

export interface RedisCoordinationOptions {
  /** LIVE_POLL_INTERVAL_MS: another replica takes a dead one's keys over within two of them. */
  intervalMs: number;
  logger: Logger;
  /** Before every Redis name, as the shared store's. @default 'rbg:' */
  prefix?: string;
  /** @default 250 ms (REDIS_COMMAND_TIMEOUT_MS) */
  commandTimeoutMs?: number;
  /** How long a lock outlives its holder's last renewal. @default intervalMs / 2 */
  lockTtlMs?: number;
  /** How often the holder renews and the others try to take the lock. @default lockTtlMs / 3 */
  tickMs?: number;
  /** The timers of the ticks. @default systemScheduler */
  scheduler?: LiveScheduler;
}

export class RedisCoordination implements LiveCoordination {
  private readonly redis: RedisWithLocks;
  private readonly subscriber: Redis;
  private readonly entries = new Map<string, Entry>();
  private readonly byChannel = new Map<string, Entry>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly replica = randomBytes(8).toString('hex');
  private readonly prefix: string;
  private readonly lockTtlMs: number;
  private readonly tickMs: number;
  private readonly scheduler: LiveScheduler;
  private readonly logger: Logger;
  private tickTimer: unknown;
  private joins = 0;
  private healthy = true;

  constructor(url: string, { intervalMs, logger, prefix = 'rbg:', commandTimeoutMs = 250, lockTtlMs = Math.ceil(intervalMs / 2), tickMs = Math.ceil(lockTtlMs / 3), scheduler = systemScheduler }: RedisCoordinationOptions) {
    this.prefix = prefix;
    this.lockTtlMs = lockTtlMs;
    this.tickMs = tickMs;
    this.scheduler = scheduler;
    this.logger = logger;
    const redis = new Redis(url, redisFallbackOptions(commandTimeoutMs));
    redis.defineCommand('liveAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand('liveRenew', { numberOfKeys: 2, lua: RENEW });
    redis.defineCommand('liveStore', { numberOfKeys: 3, lua: STORE });
    redis.defineCommand('liveRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.on('error', () => undefined); // health follows the commands' answers; ioredis would log every reconnect attempt otherwise
    this.redis = redis as RedisWithLocks;
    // Subscriptions are renewed by hand on each reconnect: with the offline queue off, one asked
    // for while disconnected fails, and ioredis' own resubscription would not know of it.
    this.subscriber = new Redis(url, { ...redisFallbackOptions(commandTimeoutMs), autoResubscribe: false });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('ready', () => {
      if (this.byChannel.size > 0) this.track(this.subscriber.subscribe(...this.byChannel.keys()));
    });
    this.subscriber.on('message', (channel: string, text: string) => this.heard(channel, text));
  }

  join(key: string, member: LiveMember): LiveLink {
    const hash = createHash('sha256').update(key).digest('base64url');
    const base = `${this.prefix}live:{${hash}}:`;
    this.joins += 1;
    const entry: Entry = {
      member, lock: `${base}lock`, window: `${base}window`, channel: `${base}changes`, token: `${this.replica}:${this.joins}`, role: 'joining', chain: Promise.resolve(), queued: 0, left: false,
    };
    this.entries.set(key, entry);
    this.byChannel.set(entry.channel, entry);
    this.track(this.subscriber.subscribe(entry.channel));
    this.run(entry, () => this.acquire(entry));
    if (this.tickTimer === undefined) this.scheduleTick();
    return {
      publish: (message, window) => this.run(entry, () => this.store(entry, message, window)),
      leave: () => this.leave(key, entry),
    };
  }

  /**
   * Resolves once both connections are up, or after `timeoutMs` (false then: keys joined
   * meanwhile are polled alone until a tick finds Redis).
   */
  async ready(timeoutMs = 2000): Promise<boolean> {
    const up = (redis: Redis): Promise<boolean> => {
      if (redis.status === 'ready') return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (): void => { clearTimeout(timer); redis.off('ready', done); resolve(redis.status === 'ready'); };
        const timer = setTimeout(done, timeoutMs);
        redis.once('ready', done);
      });
    };
    const [commands, messages] = await Promise.all([up(this.redis), up(this.subscriber)]);
    return commands && messages;
  }

  /** Releases every lock this replica holds, then closes both connections. */
  async close(): Promise<void> {
    for (const [key, entry] of [...this.entries]) this.leave(key, entry);
    await this.settled();
    this.redis.disconnect();
    this.subscriber.disconnect();
  }

  /** Resolves once every Redis operation started so far (and those they started) has answered. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private leave(key: string, entry: Entry): void {
    if (entry.left) return;
    entry.left = true;
    if (this.entries.get(key) === entry) this.entries.delete(key);
    this.byChannel.delete(entry.channel);
    this.track(this.subscriber.unsubscribe(entry.channel));
    // After the key's queued operations: an acquire still in flight may yet take the lock.
    this.run(entry, async () => { await this.redis.liveRelease(entry.lock, entry.token); });
    if (this.entries.size === 0 && this.tickTimer !== undefined) {
      this.scheduler.clearTimeout(this.tickTimer);
      this.tickTimer = undefined;
    }
  }

  private scheduleTick(): void {
    this.tickTimer = this.scheduler.setTimeout(() => {
      for (const entry of this.entries.values()) {
        if (entry.queued > 0) continue; // the key's Redis is busy (or slow): this tick waits for it
        this.run(entry, () => (entry.role === 'leader' ? this.renew(entry) : this.acquire(entry)));
      }
      this.scheduleTick();
    }, this.tickMs);
  }

  private async acquire(entry: Entry): Promise<void> {
    if (entry.left) return;
    const answer = await this.ask(() => this.redis.liveAcquire(entry.lock, entry.window, entry.token, this.lockTtlMs));
    if (answer === undefined) return this.become(entry, 'alone');
    if (answer[0] === 0) return this.become(entry, 'follower');
    this.become(entry, 'leader', answer[0] === 1 ? this.toWindow(answer[1]) : undefined);
  }

  private async renew(entry: Entry): Promise<void> {
    const held = await this.ask(() => this.redis.liveRenew(entry.lock, entry.window, entry.token, this.lockTtlMs, 2 * this.lockTtlMs));
    if (held === undefined) this.become(entry, 'alone');
    else if (held === 0) this.become(entry, 'follower');
  }

  private async store(entry: Entry, message: LiveMessage | undefined, window: readonly Backup[] | undefined): Promise<void> {
    // Alone too: a renewal that timed out once must not keep the others from this poll's changes.
    if (entry.role !== 'leader' && entry.role !== 'alone') return;
    const rows = window ? encodeWindow(window) : '';
    const text = message ? encodeMessage(this.replica, message) : '';
    const held = await this.ask(() => this.redis.liveStore(entry.lock, entry.window, entry.channel, entry.token, this.lockTtlMs, 2 * this.lockTtlMs, rows, text));
    this.become(entry, held === undefined ? 'alone' : held === 0 ? 'follower' : 'leader');
  }

  /**
   * Moves a key to `role`, telling its member what that means for this replica's polling: it
   * starts polling on becoming leader or alone (from the stored window, or a baseline), stops on
   * becoming a follower, and carries on between leader and alone.
   */
  private become(entry: Entry, role: Role, previous?: Backup[]): void {
    const wasPolling = entry.role === 'leader' || entry.role === 'alone';
    entry.role = role;
    if (entry.left) return;
    const polling = role === 'leader' || role === 'alone';
    if (polling && !wasPolling) entry.member.lead(role === 'leader' ? previous : undefined);
    else if (!polling && wasPolling) entry.member.follow();
  }

  private heard(channel: string, text: string): void {
    const entry = this.byChannel.get(channel);
    if (!entry || entry.left) return;
    let sent;
    try {
      sent = decodeMessage(text);
    } catch (error) {
      this.logger.debug({ err: error instanceof Error ? error.message : 'unknown' }, 'live message dropped: not one this replica reads');
      return;
    }
    // Another replica's message is told even while this one polls too (alone, Redis having failed
    // it): only the lock's holder publishes (STORE), so a change either poll saw is never lost;
    // while the two overlap, a change may be told twice.
    if (sent.from !== this.replica) entry.member.receive(sent.message);
  }

  private toWindow(text: string | null): Backup[] | undefined {
    if (text === null) return undefined;
    try {
      return decodeWindow(text);
    } catch {
      return undefined; // a baseline then: no events rather than wrong ones
    }
  }

  /** A Redis command's answer, or undefined when Redis did not give one (then this replica polls alone). */
  private async ask<T>(command: () => Promise<T>): Promise<T | undefined> {
    try {
      const answer = await command();
      this.setHealthy(true);
      return answer;
    } catch (error) {
      this.setHealthy(false, error);
      return undefined;
    }
  }

  private run(entry: Entry, operation: () => Promise<void>): void {
    entry.queued += 1;
    entry.chain = entry.chain.then(operation).catch((error: unknown) => {
      this.logger.debug({ err: error instanceof Error ? error.message : 'unknown' }, 'live coordination step failed');
    }).finally(() => { entry.queued -= 1; });
    this.track(entry.chain);
  }

  private track(operation: Promise<unknown>): void {
    const settled = operation.catch(() => undefined);
    this.pending.add(settled);
    void settled.finally(() => this.pending.delete(settled));
  }

  private setHealthy(healthy: boolean, error?: unknown): void {
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    if (healthy) this.logger.info('redis reachable: one live poll per key across replicas');
    else this.logger.warn({ err: error instanceof Error ? error.message : undefined }, 'redis unreachable: live keys polled by this replica alone');
  }
}
