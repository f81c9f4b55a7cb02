/**
 * The Redis SharedStore: cache and budgets shared by every replica. When Redis cannot be
 * reached, each operation falls back to this replica's MemoryStore at once (commands time out
 * fast and are not queued), so requests never fail for Redis; the change is logged once each way.
 *
 * Health follows the last answer from Redis, not the connection's events: a command that times
 * out on a live connection (a slow Redis) makes the store unhealthy, and ioredis then emits no
 * 'ready' to say it is well again. So while unhealthy, one command at a time tries Redis again
 * once `retryAfterMs` has passed since the last failure (the others use memory meanwhile, so a
 * hung Redis costs at most one slow command per back-off), and `probe()` asks with a PING.
 * Any success makes the store shared again.
 */
import { randomBytes, createHash } from 'node:crypto';

import Redis, { type RedisOptions } from 'ioredis';

import type { Logger } from '../logger';
import { MemoryStore } from './memory-store';
import { BUDGET_WINDOW_MS, type BudgetAnswer, type BudgetReading, type CachedPage, type SharedStore } from './store';

/** Sliding-window budget, atomically: drop calls older than the window, count, admit or give the oldest. */
const TAKE_BUDGET = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local count = redis.call('ZCARD', KEYS[1])
if count < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(ARGV[3]) - count - 1}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2])}
`;

/**
 * The same window, read only: the calls counted after `now - window` and the oldest one's time.
 * One round trip (two O(log n) reads); it prunes nothing, TAKE_BUDGET does that.
 */
const READ_BUDGET = `
local after = '(' .. (tonumber(ARGV[1]) - tonumber(ARGV[2]))
local count = redis.call('ZCOUNT', KEYS[1], after, '+inf')
if count == 0 then return {0, 0} end
local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], after, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
return {count, tonumber(oldest[2])}
`;

type RedisWithBudget = Redis & {
  takeBudget(key: string, now: number, windowMs: number, limit: number, member: string): Promise<[number, number]>;
  readBudget(key: string, now: number, windowMs: number): Promise<[number, number]>;
};

/**
 * ioredis options for a connection whose user falls back to this replica when Redis is away:
 * a command fails at once while disconnected (never queued) and within `commandTimeoutMs` when
 * Redis does not answer, and the connection keeps reconnecting. The live coordination uses them too.
 */
export function redisFallbackOptions(commandTimeoutMs: number): RedisOptions {
  return {
    enableOfflineQueue: false, // a command while disconnected fails now, and we use memory
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 1000,
    retryStrategy: (times) => Math.min(200 * times, 2000), // keep reconnecting
    lazyConnect: false,
  };
}

export interface RedisStoreOptions {
  /** Put before every key, so that deployments can share one Redis. @default 'rbg:' */
  prefix?: string;
  /** How long one command may take before this replica serves from memory. @default 250 ms */
  commandTimeoutMs?: number;
  /** While unhealthy: how long after a failure the next command tries Redis again. @default 1000 ms */
  retryAfterMs?: number;
  /** The clock of that back-off (not of the cache or the budget: those take `now` per call). @default Date.now */
  clock?: () => number;
}

export class RedisStore implements SharedStore {
  private readonly redis: RedisWithBudget;
  private readonly fallback = new MemoryStore();
  private readonly prefix: string;
  private readonly retryAfterMs: number;
  private readonly clock: () => number;
  private healthy = false;
  /** While unhealthy: no command tries Redis before this time, nor while another one is trying. */
  private retryAt = Number.NEGATIVE_INFINITY;
  private retrying = false;

  constructor(url: string, private readonly logger: Logger, { prefix = 'rbg:', commandTimeoutMs = 250, retryAfterMs = 1000, clock = Date.now }: RedisStoreOptions = {}) {
    this.prefix = prefix;
    this.retryAfterMs = retryAfterMs;
    this.clock = clock;
    const redis = new Redis(url, redisFallbackOptions(commandTimeoutMs));
    redis.defineCommand('takeBudget', { numberOfKeys: 1, lua: TAKE_BUDGET });
    redis.defineCommand('readBudget', { numberOfKeys: 1, lua: READ_BUDGET, readOnly: true });
    redis.on('ready', () => this.setHealthy(true));
    redis.on('error', () => this.setHealthy(false));
    redis.on('end', () => this.setHealthy(false));
    redis.on('close', () => this.setHealthy(false));
    this.redis = redis as RedisWithBudget;
  }

  /** Resolves once connected, or after `timeoutMs` (serving from memory meanwhile). */
  async ready(timeoutMs = 2000): Promise<boolean> {
    if (this.healthy) return true;
    await new Promise<void>((resolve) => {
      const done = (): void => { clearTimeout(timer); this.redis.off('ready', done); resolve(); };
      const timer = setTimeout(done, timeoutMs);
      this.redis.once('ready', done);
    });
    return this.healthy;
  }

  async getPage(key: string): Promise<CachedPage | undefined> {
    const text = await this.attempt(() => this.redis.get(this.pageKey(key)), async () => undefined);
    if (text === undefined) return this.fallback.getPage(key);
    // Parsed outside attempt(): a page that does not parse is a miss, not a sign Redis is down.
    try {
      return text === null ? undefined : (JSON.parse(text) as CachedPage);
    } catch {
      return undefined;
    }
  }

  async setPage(key: string, page: CachedPage, keepMs: number): Promise<void> {
    await this.fallback.setPage(key, page, keepMs); // a local copy for when Redis goes away
    await this.attempt(async () => { await this.redis.set(this.pageKey(key), JSON.stringify(page), 'PX', Math.max(1, Math.round(keepMs))); }, async () => undefined);
  }

  async takeBudget(identity: string, perMinute: number, now: number): Promise<BudgetAnswer> {
    return this.attempt(async () => {
      const [admitted, value] = await this.redis.takeBudget(`${this.prefix}budget:${identity}`, now, BUDGET_WINDOW_MS, perMinute, `${now}:${randomBytes(6).toString('hex')}`);
      if (admitted === 1) return { ok: true, remaining: value } as const;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((value + BUDGET_WINDOW_MS - now) / 1000)) } as const;
    }, () => this.fallback.takeBudget(identity, perMinute, now));
  }

  async readBudget(identity: string, perMinute: number, now: number): Promise<BudgetReading> {
    return this.attempt(async () => {
      const [count, oldest] = await this.redis.readBudget(`${this.prefix}budget:${identity}`, now, BUDGET_WINDOW_MS);
      if (count === 0) return { remaining: perMinute, resetSeconds: 0 };
      return { remaining: Math.max(0, perMinute - count), resetSeconds: Math.max(1, Math.ceil((oldest + BUDGET_WINDOW_MS - now) / 1000)) };
    }, () => this.fallback.readBudget(identity, perMinute, now));
  }

  status(): { backend: 'redis'; healthy: boolean } {
    return { backend: 'redis', healthy: this.healthy };
  }

  /** Asks Redis now (a PING, within the command timeout) and keeps its answer as the store's health. */
  async probe(): Promise<{ backend: 'redis'; healthy: boolean }> {
    try {
      await this.redis.ping();
      this.setHealthy(true);
    } catch (error) {
      this.setHealthy(false, error);
    }
    return this.status();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await this.fallback.close();
  }

  private pageKey(key: string): string {
    return `${this.prefix}page:${createHash('sha256').update(key).digest('base64url')}`;
  }

  private async attempt<T>(viaRedis: () => Promise<T>, viaMemory: () => Promise<T>): Promise<T> {
    const retry = !this.healthy;
    if (retry && (this.retrying || this.clock() < this.retryAt)) return viaMemory();
    if (retry) this.retrying = true;
    try {
      const result = await viaRedis();
      this.setHealthy(true);
      return result;
    } catch (error) {
      this.setHealthy(false, error);
      return viaMemory();
    } finally {
      if (retry) this.retrying = false;
    }
  }

  private setHealthy(healthy: boolean, error?: unknown): void {
    if (!healthy) this.retryAt = this.clock() + this.retryAfterMs;
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    if (healthy) this.logger.info('redis reachable: cache and budget shared across replicas');
    else this.logger.warn({ err: error instanceof Error ? error.message : undefined }, 'redis unreachable: serving cache and budget from this replica\'s memory');
  }
}
