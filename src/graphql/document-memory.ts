/**
 * What a parsed operation really costs in memory, and how to make it cost less.
 *
 * graphql-js links every token the lexer read, comments included, into one chain that each
 * node's `loc` reaches: a cached document of `{ __typename }` and 300,000 comment lines held
 * 300,000 tokens (about 45 bytes of heap per byte of text), while Apollo's default document
 * cache sized it by `JSON.stringify`, which sees none of them. Measured with `node --expose-gc`
 * (bench/memory.mjs for the gateway as a whole): a document costs about 300 bytes of heap per
 * AST node, with its location, plus its text; graphql-jit's compiled function about 0.6 KB per
 * field it resolves, fragments expanded where they are spread.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/** Heap per AST node, its Location and its two tokens (measured: 260 to 310). */
const BYTES_PER_NODE = 320;
/** Heap per resolved field of a graphql-jit compiled operation, once run (measured: 0.5 KB to 0.6 KB). */
const BYTES_PER_COMPILED_FIELD = 1000;

/**
 * Unlinks the lexer's token chain, so that a document keeps only the tokens its nodes start and
 * end on (and their source), not every comment and punctuation mark between them. Error
 * locations stay exact: graphql-js reads `loc.source` and `loc.start`, graphql-jit
 * `loc.startToken.line`/`column`; nothing reads `prev`/`next` once parsing is done.
 */
export function releaseTokenChain(document: DocumentNode): void {
  let token = document.loc?.startToken ?? null;
  while (token) {
    const next = token.next;
    Object.assign(token, { prev: null, next: null });
    token = next;
  }
}

/**
 * Releases each document's token chain as soon as Apollo has parsed it, before it is validated,
 * cached or compiled: the chain of a document of comments lives only while it is parsed.
 */
export function releaseTokenChainPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async parsingDidStart(requestContext) {
          return async (error) => { if (!error && requestContext.document) releaseTokenChain(requestContext.document); };
        },
      };
    },
  };
}

/** The number of nodes under (and including) any AST value. */
function countNodes(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + countNodes(item), 0);
  if (typeof value !== 'object' || value === null || !('kind' in value)) return 0;
  let count = 1;
  for (const [key, child] of Object.entries(value)) if (key !== 'loc') count += countNodes(child);
  return count;
}

/** Bytes of heap a parsed document holds (after `releaseTokenChain`): its nodes and its text (two bytes a character at most). */
export function documentBytes(document: DocumentNode): number {
  return countNodes(document) * BYTES_PER_NODE + 2 * (document.loc?.source.body.length ?? 0);
}

/**
 * The fields an operation resolves, each fragment counted wherever it is spread (graphql-jit
 * inlines them). Validation has refused fragment cycles; a cycle counts once anyway.
 */
export function resolvedFieldCount(document: DocumentNode, operationName?: string | null): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const memo = new Map<string, number>();
  const inSelection = (set: SelectionSetNode | undefined, open: Set<string>): number => {
    let count = 0;
    for (const s of set?.selections ?? []) {
      if (s.kind === Kind.FIELD) count += 1 + inSelection(s.selectionSet, open);
      else if (s.kind === Kind.INLINE_FRAGMENT) count += inSelection(s.selectionSet, open);
      else count += inFragment(s.name.value, open);
    }
    return count;
  };
  const inFragment = (name: string, open: Set<string>): number => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    if (!fragment || open.has(name)) return 0;
    open.add(name);
    const count = inSelection(fragment.selectionSet, open);
    open.delete(name);
    memo.set(name, count);
    return count;
  };
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName));
  return operation?.kind === Kind.OPERATION_DEFINITION ? inSelection(operation.selectionSet, new Set()) : 0;
}

/** Bytes of heap graphql-jit's compiled form of an operation holds, its document apart. */
export function compiledBytes(document: DocumentNode, operationName?: string | null): number {
  return resolvedFieldCount(document, operationName) * BYTES_PER_COMPILED_FIELD;
}
