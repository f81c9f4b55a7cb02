/**
 * GraphQL over SSE on `/graphql` (graphql-sse's distinct connections mode: `POST` with
 * `Accept: text/event-stream`, one subscription per response), as a route handler that returns a
 * Reply like any other: its body is the event stream, which the router writes chunk by chunk and
 * ends when the client leaves (http/router.ts). Each subscription goes through
 * graphql/subscriptions.ts, as graphql-ws's do; credentials come from the request's headers.
 *
 * graphql-sse's framework-free handler is used rather than its `use/http` adapter: that one
 * writes to the ServerResponse itself, and every answer here passes the router's filters (CORS,
 * Vary, the request id) on its way out.
 */
import { createHandler } from 'graphql-sse';

import { StreamInterruptedError, type Reply } from '../http/reply';
import type { Exchange } from '../http/router';
import type { LiveOperations, Screened, SubscriptionParams } from './subscriptions';

/** Whether a request asks for an event stream (graphql-sse's client sends exactly this Accept). */
export function wantsEventStream(x: Exchange): boolean {
  return x.method === 'POST' && /(?:^|,)\s*text\/event-stream\s*(?:;|,|$)/i.test(x.header('accept') ?? '');
}

export interface SseEndpoint {
  /**
   * Answers one POST whose JSON body was read: the event stream, or graphql-sse's refusal.
   * `screened`: what the endpoint decided of its document (trusted documents), if it did.
   */
  handle(x: Exchange, body: unknown, screened?: Screened): Promise<Reply>;
  /**
   * Ends every open stream's subscription and cuts its response: shutdown. Not a clean end,
   * which graphql-sse's client takes for the end of the subscription; a cut one it retries
   * (elsewhere, behind a load balancer).
   */
  close(): Promise<void>;
}

export function createSseEndpoint(live: LiveOperations): SseEndpoint {
  const open = new Set<TrackedStream>();
  let closed = false;
  // The request's context (graphql-sse's RequestContext) carries what the endpoint screened.
  const handler = createHandler<Exchange, Screened | undefined>({
    // No reservations: every stream is a connection of its own (distinct connections mode).
    authenticate: () => null,
    onSubscribe(req, params) {
      const x = req.raw;
      const prepared = live.prepare(params as SubscriptionParams, { header: (name) => x.header(name), requestId: x.requestId, started: x.started }, 'sse', req.context);
      // A refusal is one `next` event with the errors, then `complete`: an EventSource-style
      // client reads it as an answer rather than retrying a failed connection.
      return 'errors' in prepared ? { data: null, errors: prepared.errors } as never : prepared as never;
    },
    // Validated with the gateway's rules in prepare(); graphql-sse would otherwise validate again with graphql-js's.
    validate: () => [],
    subscribe: (args) => live.subscribe(args) as never,
  });
  return {
    async handle(x, body, screened) {
      const [stream, init] = await handler({
        method: x.method, url: x.pathname + x.search, body: body as Record<string, unknown>, raw: x, context: screened,
        // graphql-sse compares Accept to `text/event-stream` exactly; the route chose this handler by it.
        headers: { get: (name) => (name === 'accept' ? 'text/event-stream' : x.header(name.toLowerCase())) },
      });
      // `content-encoding: none` is not an encoding: dropped, and compression skips event streams anyway.
      const { 'content-encoding': _none, ...headers } = init.headers ?? {};
      if (stream === null || typeof stream === 'string') return { status: init.status, headers, body: stream === null ? undefined : withCodes(stream) };
      const events = tracked(stream, () => open.delete(events));
      // A stream set up while shutdown began is cut at once, as the open ones were.
      if (closed) await events.interrupt();
      else open.add(events);
      return { status: init.status, headers, body: events };
    },
    async close() {
      closed = true;
      await Promise.all([...open].map((stream) => stream.interrupt()));
    },
  };
}

/**
 * graphql-sse's own refusals (a body with no `query`: "Missing query") with the code every error
 * of this gateway carries (DESIGN.md, "Errors"): BAD_REQUEST, where graphql-sse gives none.
 */
function withCodes(text: string): string {
  let body: { errors?: Array<{ extensions?: Record<string, unknown> }> };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return text;
  }
  if (!Array.isArray(body.errors)) return text;
  body.errors = body.errors.map((error) => (error.extensions?.code ? error : { ...error, extensions: { ...error.extensions, code: 'BAD_REQUEST' } }));
  return JSON.stringify(body);
}

/** An event stream as a Reply's body, which shutdown can cut. */
interface TrackedStream extends AsyncIterable<string> {
  /** Ends the stream's subscription, and its response abruptly (StreamInterruptedError). */
  interrupt(): Promise<void>;
}

/** The stream, calling `done` once it has ended however (its source, its client, shutdown). */
function tracked(stream: AsyncGenerator<string>, done: () => void): TrackedStream {
  let interrupted = false;
  const iterator: AsyncIterator<string> = {
    async next() {
      let step: IteratorResult<string>;
      try {
        step = await stream.next();
      } catch (error) {
        done();
        throw error;
      }
      if (interrupted) throw new StreamInterruptedError('The gateway is shutting down.');
      if (step.done) done();
      return step;
    },
    async return() {
      done();
      return stream.return(undefined);
    },
  };
  return {
    [Symbol.asyncIterator]: () => iterator,
    async interrupt() {
      interrupted = true;
      done();
      await stream.return(undefined);
    },
  };
}
