/**
 * MAX_DOCUMENT_BYTES: a GraphQL document (the `query` text) larger than this is refused with
 * 400 BAD_REQUEST before Apollo hashes, parses or caches it. `MAX_TOKENS` does not see comments
 * or whitespace, so without this bound a document of comments costs a parse of its whole body.
 *
 * Apollo Server has no hook that can refuse a request before parsing with a 400 (a plugin that
 * throws there makes a 500), so the check wraps its HTTP entry point. The fast path needs no
 * check of its own: it answers only operations that came through here first.
 */
import { ApolloServer, HeaderMap, type ApolloServerOptions, type BaseContext, type HTTPGraphQLRequest, type HTTPGraphQLResponse } from '@apollo/server';

/** The document a request carries: a POST body's `query`, or a GET's `query` parameter. */
function documentOf(request: HTTPGraphQLRequest): string | undefined {
  const { body } = request;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const query = (body as Record<string, unknown>).query;
    return typeof query === 'string' ? query : undefined;
  }
  if (request.method !== 'GET' || !request.search.includes('query=')) return undefined;
  try {
    return new URLSearchParams(request.search).get('query') ?? undefined;
  } catch {
    return undefined; // Apollo answers malformed parameters itself
  }
}

/** Whether a text is longer than `maxBytes` in UTF-8 (without encoding it when its length decides). */
export function exceedsBytes(text: string, maxBytes: number): boolean {
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  return Buffer.byteLength(text, 'utf8') > maxBytes;
}

export class DocumentSizeLimitedApolloServer<TContext extends BaseContext> extends ApolloServer<TContext> {
  constructor(options: ApolloServerOptions<TContext>, private readonly maxDocumentBytes: number) {
    super(options);
  }

  override async executeHTTPGraphQLRequest(args: Parameters<ApolloServer<TContext>['executeHTTPGraphQLRequest']>[0]): Promise<HTTPGraphQLResponse> {
    const document = documentOf(args.httpGraphQLRequest);
    if (document === undefined || !exceedsBytes(document, this.maxDocumentBytes)) return super.executeHTTPGraphQLRequest(args);
    const message = `The GraphQL document is larger than ${this.maxDocumentBytes} bytes (MAX_DOCUMENT_BYTES).`;
    return {
      status: 400,
      headers: new HeaderMap([['content-type', 'application/json; charset=utf-8']]),
      body: { kind: 'complete', string: `${JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] })}\n` },
    };
  }
}
