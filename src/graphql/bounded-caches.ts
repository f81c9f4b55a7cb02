/**
 * The caches Apollo Server keeps per distinct operation, bounded by what their entries really
 * hold: the document cache (parsed and validated operations, by hash) and the persisted-query
 * cache (APQ: operation texts by hash). Apollo's defaults size entries by `JSON.stringify`,
 * which omits what a document's locations keep (document-memory.ts).
 *
 * lru-cache stores nothing larger than `maxSize` (an oversized entry is simply not cached), and
 * evicts the least recently used entries to make room for the rest.
 */
import type { DocumentStore, PersistedQueryOptions } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';

import { documentBytes } from './document-memory';

type PersistedQueryCache = NonNullable<PersistedQueryOptions['cache']>;

/** A size-bounded cache in the shape Apollo takes (`KeyValueCache`), with its accounting readable. */
export interface BoundedCache<V extends {}> {
  get(key: string): Promise<V | undefined>;
  set(key: string, value: V): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Entries held. */
  readonly size: number;
  /** The sum of the entries' computed sizes, never above `maxBytes`. */
  readonly bytes: number;
  readonly maxBytes: number;
  values(): V[];
}

/** Key, LRU node and entry objects: about this much per entry beyond key and value (measured 150 to 200). */
const ENTRY_OVERHEAD = 200;

function boundedCache<V extends {}>(maxBytes: number, valueBytes: (value: V) => number): BoundedCache<V> {
  const cache = new LRUCache<string, V>({
    maxSize: maxBytes,
    sizeCalculation: (value, key) => ENTRY_OVERHEAD + 2 * key.length + valueBytes(value),
  });
  return {
    async get(key) { return cache.get(key); },
    async set(key, value) { cache.set(key, value); },
    async delete(key) { return cache.delete(key); },
    get size() { return cache.size; },
    get bytes() { return cache.calculatedSize; },
    maxBytes,
    values: () => [...cache.values()],
  };
}

/** Apollo's `documentStore`: parsed, validated documents, sized by their nodes and text. */
export function createDocumentStore(maxBytes = 16 * 1024 * 1024): BoundedCache<DocumentNode> & DocumentStore {
  return boundedCache<DocumentNode>(maxBytes, documentBytes);
}

/** Apollo's `persistedQueries.cache`: operation texts registered by hash (two bytes a character at most). */
export function createPersistedQueryCache(maxBytes = 8 * 1024 * 1024): BoundedCache<string> & PersistedQueryCache {
  return boundedCache<string>(maxBytes, (text) => 2 * text.length);
}
