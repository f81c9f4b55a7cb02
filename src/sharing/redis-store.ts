/**
 * The Redis SharedStore: cache and budgets shared by every replica. When Redis cannot be
 * reached, each operation falls back to this replica's MemoryStore at once (commands time out
 * fast and are not queued), so requests never fail for Redis; the change is logged once each way.
 */
import { randomBytes, createHash } from 'node:crypto';

import Redis from 'ioredis';

import type { Logger } from '../logger';
import { MemoryStore } from './memory-store';
import { BUDGET_WINDOW_MS, type BudgetAnswer, type CachedPage, type SharedStore } from './store';

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

type RedisWithBudget = Redis & { takeBudget(key: string, now: number, windowMs: number, limit: number, member: string): Promise<[number, number]> };

export class RedisStore implements SharedStore {
  private readonly redis: RedisWithBudget;
  private readonly fallback = new MemoryStore();
  private healthy = false;

  constructor(url: string, private readonly logger: Logger, private readonly prefix = 'rbg:') {
    const redis = new Redis(url, {
      enableOfflineQueue: false, // a command while disconnected fails now, and we use memory
      maxRetriesPerRequest: 0,
      commandTimeout: 250,
      connectTimeout: 1000,
      retryStrategy: (times) => Math.min(200 * times, 2000), // keep reconnecting
      lazyConnect: false,
    });
    redis.defineCommand('takeBudget', { numberOfKeys: 1, lua: TAKE_BUDGET });
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
    return this.attempt(async () => {
      const text = await this.redis.get(this.pageKey(key));
      return text === null ? undefined : (JSON.parse(text) as CachedPage);
    }, () => this.fallback.getPage(key));
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

  status(): { backend: 'redis'; healthy: boolean } {
    return { backend: 'redis', healthy: this.healthy };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await this.fallback.close();
  }

  private pageKey(key: string): string {
    return `${this.prefix}page:${createHash('sha256').update(key).digest('base64url')}`;
  }

  private async attempt<T>(viaRedis: () => Promise<T>, viaMemory: () => Promise<T>): Promise<T> {
    if (!this.healthy) return viaMemory();
    try {
      return await viaRedis();
    } catch (error) {
      this.setHealthy(false, error);
      return viaMemory();
    }
  }

  private setHealthy(healthy: boolean, error?: unknown): void {
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    if (healthy) this.logger.info('redis reachable: cache and budget shared across replicas');
    else this.logger.warn({ err: error instanceof Error ? error.message : undefined }, 'redis unreachable: serving cache and budget from this replica\'s memory');
  }
}
