/**
 * Answers the repeat of an operation Apollo has already validated, without Apollo's request
 * pipeline: the common case of a BFF, where a few known operations are sent over and over.
 *
 * Apollo's pipeline (HTTP parsing, content negotiation, a SHA-256 of the text, the document
 * cache, plugin hooks, the response head) took about 15% of the gateway's CPU per page request
 * in `node --cpu-prof` under bench/, once the upstream client was cheap. This path does the same
 * work for the one shape of request it accepts, and hands everything else to Apollo unchanged:
 * - only `POST` with a JSON body `{query, variables?, operationName?}` (no `extensions`: no
 *   persisted queries), and an `Accept` that names JSON plainly or is absent;
 * - only an operation Apollo parsed, validated and compiled before (the OperationStore holds
 *   nothing else), so parse and validation errors, limits and introspection rules stay Apollo's;
 * - the upstream-call limit is checked with the same code; a refusal goes to Apollo to answer;
 * - variables that do not coerce (errors without a path: nothing ran) go to Apollo to answer.
 * Results and errors are formatted as Apollo formats them (test/integration/fast-path.test.ts
 * compares the two byte for byte), logged and counted by the same recorder.
 */
import type http from 'node:http';

import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';

import type { GatewayContext, HeaderGetter } from '../context';
import type { UpstreamCallLimit } from '../limits/upstream-calls';
import type { OperationRecorder } from '../observability/operation-log';
import { toGraphQLError, type OperationStore } from './jit-gateway';

export interface FastPathDeps {
  schema: GraphQLSchema;
  store: OperationStore;
  callLimit: UpstreamCallLimit;
  createContext: (header: HeaderGetter, requestId: string, signal?: AbortSignal) => GatewayContext;
  /** The signal that aborts when a request's client leaves (server.ts), for its context. */
  clientSignal?: (req: http.IncomingMessage) => AbortSignal | undefined;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  record: OperationRecorder;
  /** Counts the operations this path answered. */
  onAnswered?: () => void;
}

/** The content type Apollo would choose for an `Accept` header, for the values this path takes; else undefined. */
function responseType(accept: string | undefined): string | undefined {
  if (accept === undefined || accept === '' || accept === '*/*' || accept === 'application/json') return 'application/json; charset=utf-8';
  if (accept === 'application/graphql-response+json') return 'application/graphql-response+json; charset=utf-8';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Apollo's error normalisation (its internal `normalizeAndFormatErrors`): a code defaults to
 * INTERNAL_SERVER_ERROR, then formatError decides; a formatError that throws masks the error.
 * Errors here come from execution, whose extensions never carry an HTTP status.
 */
function formatErrors(errors: readonly GraphQLError[], formatError: FastPathDeps['formatError']): GraphQLFormattedError[] {
  return errors.map((error) => {
    try {
      const formatted = error.toJSON();
      return formatError({ ...formatted, extensions: { ...formatted.extensions, code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR' } }, error);
    } catch {
      return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
  });
}

export interface FastPath {
  /**
   * Answers the request if it is the shape this path takes and its operation is known; returns
   * false, having written nothing, when Apollo should answer it instead.
   */
  handle(req: http.IncomingMessage, res: http.ServerResponse, body: unknown, requestId: string, started: number): Promise<boolean>;
}

export function createFastPath(deps: FastPathDeps): FastPath {
  const { schema, store, callLimit, createContext, formatError, record } = deps;
  return {
    async handle(req, res, body, requestId, started) {
      const contentType = responseType(req.headers.accept);
      if (contentType === undefined || !isRecord(body) || typeof body.query !== 'string' || body.extensions !== undefined) return false;
      const { query, variables, operationName } = body;
      if (variables !== undefined && variables !== null && !isRecord(variables)) return false;
      if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return false;
      const known = store.get(query, operationName);
      if (!known) return false;
      if (callLimit.check(schema, known.document, `#${known.id}`, known.operationName, variables)) return false;

      const header: HeaderGetter = (name) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      };
      const context = createContext(header, requestId, deps.clientSignal?.(req));
      const result = await known.compiled.query(undefined, context, variables ?? {});
      let errors: GraphQLFormattedError[] | undefined;
      if (result.errors) {
        // Errors without a path come before execution (variables that do not coerce): Apollo
        // answers those with its own status and messages, and nothing has been called yet.
        if (result.errors.some((e) => !e.path)) return false;
        errors = formatErrors(result.errors.map(toGraphQLError), formatError);
      }
      const text = `${JSON.stringify({ errors, data: result.data })}\n`;
      res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
      record({ started, context, operationName: known.operationName, data: result.data, errors });
      deps.onAnswered?.();
      return true;
    },
  };
}
