/**
 * The node:http server and what it allows a client: header size, how slowly a request may
 * arrive, how many connections at once, and the answer to a request Node cannot parse. Requests
 * themselves are answered by the router (http/router.ts); shutdown drains through Apollo's drain
 * plugin (graphql/apollo.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import type { Config } from '../config';
import { endSocketWithJson, graphqlErrorBody } from './reply';

/** Node's limit on a request line and its headers; larger ones get 431. */
export const MAX_HEADER_BYTES = 65_536;

/**
 * Node's own answer to a request it cannot parse (a bad method, request line or framing, headers
 * over `maxHeaderSize`, too slow) is a bare status line; this one says the same with a JSON body.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // As Node's own handler: no answer once a response on this socket has begun (a pipelined
  // request after it broke), else its bytes would land inside that response.
  const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || current?.headersSent) { socket.destroy(); return; }
  const [status, message] = error.code === 'HPE_HEADER_OVERFLOW' ? [431, `The request line and headers are larger than ${MAX_HEADER_BYTES / 1024} KB.`]
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'The request did not arrive in time.']
    : [400, 'The request is not valid HTTP/1.1.'];
  endSocketWithJson(socket, status, graphqlErrorBody(message, 'BAD_REQUEST'));
}

/** A server with the connection limits of `connections`, not yet listening and with no request listener. */
export function createHttpServer(connections: Config['connections']): http.Server {
  const { headersTimeoutMs, requestTimeoutMs, maxConnections } = connections;
  const server = http.createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    // A client that sends its headers or its body slowly is cut off with 408 (answerClientError)
    // rather than holding a connection for Node's defaults (60 s, 300 s). Node checks these on
    // its own interval (30 s by default), so the interval follows the timeouts.
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
  });
  server.keepAliveTimeout = 65_000;
  // Connections past the cap are closed as they arrive (idle keep-alive ones count too).
  server.maxConnections = maxConnections;
  server.on('clientError', answerClientError);
  return server;
}

/** Listens, and resolves with the base URL (e.g. `http://127.0.0.1:4000`). */
export async function listen(server: http.Server, port: number, host: string): Promise<string> {
  server.listen(port, host);
  await new Promise<void>((resolve, reject) => { server.once('listening', resolve); server.once('error', reject); });
  const { port: bound, address } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${bound}`;
}
