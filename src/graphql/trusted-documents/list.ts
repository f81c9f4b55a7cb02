/**
 * The trusted documents as the gateway runs them: each document of the manifest parsed and
 * validated once, at start-up, so that a request naming one skips parsing and validation (the
 * fast path runs its compiled operation directly). Each operation is compiled when first asked
 * for, and kept: a compiled operation takes about 20 KB of heap, and a manifest of thousands of
 * documents, most rarely run, would otherwise hold them all from the start. A document that does not
 * parse or validate stops start-up, like a bad variable, with one line naming the file and
 * the entry.
 */
import { readFileSync } from 'node:fs';

import {
  GraphQLError, Kind, parse, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';

import type { TrustedDocumentsConfig, TrustedDocumentsMode } from '../../config';
import { exceedsBytes } from '../../limits/document-size';
import { releaseTokenChain } from '../document-memory';
import { nextOperationId, type KnownOperation } from '../operation-store';
import type { OperationConcerns } from '../operation';
import { entryLabel, manifestError, parseManifest, type ManifestEntry } from './manifest';
import { resolveDocument, type DocumentRequest, type Resolution } from './resolve';

/** A document of the manifest, checked and compiled. */
export interface ListedDocument {
  /** The lowercase hex SHA-256 of `body`. */
  id: string;
  body: string;
  /** Parsed (token chain released) and validated at start-up. */
  document: DocumentNode;
  /**
   * Its operation a request names (`operationName`), or its only one when the request names
   * none, compiled (at its first use); undefined when there is no such operation (Apollo's
   * pipeline then answers).
   */
  operation(requestedName: string | null | undefined): KnownOperation | undefined;
}

export interface TrustedDocuments {
  mode: TrustedDocumentsMode;
  /** Documents listed. */
  readonly size: number;
  /** The document a request names (or carries) resolved against the list, counted by `onResolved`. */
  resolve(request: DocumentRequest): Resolution<ListedDocument>;
}

export interface TrustedDocumentsDeps {
  /** The public schema. */
  schema: GraphQLSchema;
  /**
   * OperationConcerns.validate: Apollo's rules and the gateway's limits, and no introspection where
   * it is off (a listed introspection document is then refused at start-up, as Apollo would refuse
   * it on every request).
   */
  validate: OperationConcerns['validate'];
  limits: { maxTokens: number; maxDocumentBytes: number };
  /** Each resolution's outcome (metrics): listed, unlisted, or refused; a request that names no document is not counted. */
  onResolved?: (outcome: 'listed' | 'unlisted' | 'refused') => void;
}

/** Throws a ConfigError naming the file and the entry when its document is not one the gateway would run. */
function toDocument(file: string, entry: ManifestEntry, deps: TrustedDocumentsDeps): DocumentNode {
  const fail = (problem: string): never => { throw manifestError(file, `${entryLabel(entry.id, entry.name)}: ${problem}`); };
  if (exceedsBytes(entry.body, deps.limits.maxDocumentBytes)) fail(`the document is larger than MAX_DOCUMENT_BYTES (${deps.limits.maxDocumentBytes})`);
  let document: DocumentNode;
  try {
    document = parse(entry.body, { maxTokens: deps.limits.maxTokens });
  } catch (error) {
    return fail(`the document does not parse: ${error instanceof GraphQLError ? error.message : String(error)}`);
  }
  releaseTokenChain(document);
  // Rules given to validate() replace graphql-js's own: both, as Apollo runs them.
  const [invalid] = deps.validate(deps.schema, document);
  if (invalid) fail(`the document does not validate against the schema: ${invalid.message}`);
  // A valid document has an operation (a fragment nothing spreads is invalid).
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (entry.name !== null) {
    const named = operations.find((o) => o.name?.value === entry.name);
    if (!named) fail(`the document has no operation named ${JSON.stringify(entry.name)}`);
    else if (entry.type !== null && named.operation !== entry.type) fail(`the operation is a ${named.operation}, not a ${JSON.stringify(entry.type)} as the manifest says`);
  } else if (entry.type !== null && operations.length === 1 && operations[0]!.operation !== entry.type) {
    fail(`the operation is a ${operations[0]!.operation}, not a ${JSON.stringify(entry.type)} as the manifest says`);
  }
  return document;
}

/** Each operation of a validated document, compiled with graphql-jit (as jit-executor.ts compiles Apollo's) when first asked for. */
function compileOperations(schema: GraphQLSchema, document: DocumentNode): ListedDocument['operation'] {
  const names = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION).map((d) => d.name?.value ?? null);
  const compiled = new Map<string | null, KnownOperation>();
  const compile = (operationName: string | null): KnownOperation => {
    let known = compiled.get(operationName);
    if (!known) {
      const result = compileQuery(schema, document, operationName ?? undefined);
      // A validated document compiles; graphql-jit refusing one would be a bug of its own.
      if (!isCompiledQuery(result)) throw new Error(`graphql-jit did not compile a validated operation: ${result.errors?.[0]?.message ?? 'no reason given'}`);
      known = { compiled: result, document, operationName, id: nextOperationId() };
      compiled.set(operationName, known);
    }
    return known;
  };
  return (requestedName) => {
    if (requestedName === undefined || requestedName === null) return names.length === 1 ? compile(names[0]!) : undefined;
    return names.includes(requestedName) ? compile(requestedName) : undefined;
  };
}

/**
 * The most documents a manifest may list. Each parsed and validated document stays in memory
 * (about 10 KB of heap for a console's query): 10,000 start in a 192 MB heap (the Dockerfile's),
 * 20,000 ran it out of memory, an abort with no clear line. A first-party frontend's operations
 * are a few hundred at most.
 */
export const MAX_TRUSTED_DOCUMENTS = 10_000;

/** The list of a manifest's entries (parseManifest()), each checked and compiled; a ConfigError naming `file` and the entry otherwise. */
export function createTrustedDocuments(entries: readonly ManifestEntry[], mode: TrustedDocumentsMode, file: string, deps: TrustedDocumentsDeps): TrustedDocuments {
  if (entries.length > MAX_TRUSTED_DOCUMENTS) throw manifestError(file, `lists ${entries.length} documents, more than the ${MAX_TRUSTED_DOCUMENTS} a gateway takes (split the list: one gateway per frontend)`);
  const byId = new Map<string, ListedDocument>();
  const byBody = new Map<string, ListedDocument>();
  for (const entry of entries) {
    const document = toDocument(file, entry, deps);
    const listed: ListedDocument = { id: entry.id, body: entry.body, document, operation: compileOperations(deps.schema, document) };
    byId.set(entry.id, listed);
    byBody.set(entry.body, listed);
  }
  const lookup = { byId: (id: string) => byId.get(id), byBody: (text: string) => byBody.get(text) };
  return {
    mode,
    size: byId.size,
    resolve(request) {
      const resolution = resolveDocument(request, lookup, mode);
      if (resolution.outcome !== 'absent') deps.onResolved?.(resolution.outcome);
      return resolution;
    },
  };
}

/** TRUSTED_DOCUMENTS read, parsed, checked and compiled; a ConfigError naming the file (and the entry) when any of it fails. */
export function loadTrustedDocuments({ file, mode }: TrustedDocumentsConfig, deps: TrustedDocumentsDeps): TrustedDocuments {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw manifestError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return createTrustedDocuments(parseManifest(text, file), mode, file, deps);
}
