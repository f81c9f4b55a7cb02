import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * What a route answers. Routes return a Reply and never write to the socket themselves: the
 * router writes every Reply through `writeReply()` (http/router.ts), the one place where headers
 * common to every answer (CORS, caching, compression, rate-limit headers) belong.
 */
export interface Reply {
  status: number;
  /** Lower-case names. `content-length` is set when the body is written whole. */
  headers: Record<string, string>;
  /** A whole body, or chunks to stream (incremental delivery); none for 304 and HEAD. */
  body?: string | Buffer | AsyncIterable<string>;
}

/** A whole JSON answer: the gateway's own refusals and probes. */
export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) };
}

/** The body of a refusal on a GraphQL endpoint: the GraphQL over HTTP shape, one error with its code. */
export function graphqlErrorBody(message: string, code: string): { errors: Array<{ message: string; extensions: { code: string } }> } {
  return { errors: [{ message, extensions: { code } }] };
}

/** A refusal on a GraphQL endpoint (`/graphql`, `/subgraph`). */
export function graphqlErrorReply(status: number, message: string, code: string, headers: Record<string, string> = {}): Reply {
  return jsonReply(status, graphqlErrorBody(message, code), headers);
}

/**
 * Thrown by a streamed body to end its response abruptly rather than cleanly: an event stream
 * at shutdown, whose client must see a cut connection (and reconnect elsewhere) and not the end
 * of its subscription, which is what a clean end means to graphql-sse's client.
 */
export class StreamInterruptedError extends Error {
  override name = 'StreamInterruptedError';
}

/**
 * A JSON answer written straight to a socket Node's HTTP server has let go of (a request it could
 * not parse, an upgrade refused), which is then ended: no Reply and no router apply there.
 */
export function endSocketWithJson(socket: Duplex, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
