/**
 * The operations Apollo has parsed, validated and compiled (jit-executor.ts), by text and
 * requested operation name: what the fast path may answer without Apollo.
 */
import type { DocumentNode } from 'graphql';
import type { CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';

import { compiledBytes, documentBytes } from './document-memory';

/** An operation Apollo has parsed and validated, compiled. */
export interface KnownOperation {
  compiled: CompiledQuery;
  document: DocumentNode;
  /** The name of the operation the request resolved to (for logs and metrics). */
  operationName: string | null;
  /**
   * Stands for the operation text in other caches' keys (a number, not the text): the
   * upstream-call limit caches costs by it. Unique in the process, whoever made the operation
   * (a store, or the trusted documents' list): see nextOperationId().
   */
  id: number;
}

let lastOperationId = 0;

/**
 * A new KnownOperation id. One sequence for the process: two operations of different texts must
 * never share an id, or one would be admitted with the other's cached cost.
 */
export function nextOperationId(): number {
  return ++lastOperationId;
}

/**
 * Compiled operations by text and requested operation name. Bounded by count and by bytes: an
 * entry counts its key (the text), its document and its compiled function, as measured in
 * document-memory.ts (the document is shared with Apollo's document cache, and counted in both).
 * An operation larger than the whole budget is compiled and run, but not kept.
 */
export class OperationStore {
  private readonly operations: LRUCache<string, KnownOperation>;

  constructor(maxOperations = 1000, maxBytes = 16 * 1024 * 1024) {
    this.operations = new LRUCache({
      max: maxOperations,
      maxSize: maxBytes,
      sizeCalculation: (value, key) => 2 * key.length + documentBytes(value.document) + compiledBytes(value.document, value.operationName),
    });
  }

  /** Operations held. */
  get size(): number {
    return this.operations.size;
  }

  /** The sum of the entries' computed sizes, never above the budget. */
  get bytes(): number {
    return this.operations.calculatedSize;
  }

  private static key(query: string, requestedName: string | null | undefined): string {
    return `${requestedName ?? ''}\u0000${query}`;
  }

  get(query: string, requestedName: string | null | undefined): KnownOperation | undefined {
    return this.operations.get(OperationStore.key(query, requestedName));
  }

  add(query: string, requestedName: string | null | undefined, entry: Omit<KnownOperation, 'id'>): KnownOperation {
    const known = { ...entry, id: nextOperationId() };
    this.operations.set(OperationStore.key(query, requestedName), known);
    return known;
  }

  clear(): void {
    this.operations.clear();
  }
}
