import { GraphQLError } from 'graphql';

import { CursorStaleError, InvalidInputError, MissingCredentialsError } from '../../src/errors/domain';
import { createFormatError, toPublicError } from '../../src/errors/format';
import {
  CredentialsPausedError, UpstreamBadResponseError, UpstreamHttpError, UpstreamNetworkError, UpstreamTimeoutError,
} from '../../src/upstream/errors';

describe('toPublicError()', () => {
  it.each([
    [new InvalidInputError('x'), 'BAD_USER_INPUT'],
    [new CursorStaleError(), 'CURSOR_STALE'],
    [new MissingCredentialsError(), 'UNAUTHENTICATED'],
    [new UpstreamHttpError(400, 'DBS.200001', 'r'), 'BAD_USER_INPUT'],
    [new UpstreamHttpError(401, 'APIG.0301', 'r'), 'UNAUTHENTICATED'],
    [new UpstreamHttpError(403, 'DBS.200010', 'r'), 'FORBIDDEN'],
    [new UpstreamHttpError(404, 'DBS.200045', 'r'), 'NOT_FOUND'],
    [new UpstreamHttpError(404, 'DBS.200002', 'r'), 'NOT_FOUND'],
    [new UpstreamHttpError(404, 'APIGW.0101', 'r'), 'UPSTREAM_UNAVAILABLE'],
    [new UpstreamHttpError(409, 'DBS.200011', 'r'), 'UPSTREAM_UNAVAILABLE'],
    [new UpstreamHttpError(429, 'APIGW.0308', 'r', 3), 'RATE_LIMITED'],
    [new UpstreamHttpError(500, 'DBS.108000', 'r'), 'UPSTREAM_UNAVAILABLE'],
    [new UpstreamHttpError(503, undefined, undefined), 'UPSTREAM_UNAVAILABLE'],
    [new UpstreamHttpError(418, undefined, undefined), 'UPSTREAM_BAD_RESPONSE'],
    [new UpstreamTimeoutError(100), 'UPSTREAM_UNAVAILABLE'],
    [new UpstreamNetworkError('ECONNREFUSED'), 'UPSTREAM_UNAVAILABLE'],
    [new UpstreamBadResponseError('x'), 'UPSTREAM_BAD_RESPONSE'],
    [new CredentialsPausedError(300), 'UNAUTHENTICATED'],
  ])('maps %s to %s', (error, code) => {
    expect(toPublicError(error)?.code).toBe(code);
  });

  it('carries upstream status, code and request id, and retryAfterSeconds for 429', () => {
    expect(toPublicError(new UpstreamHttpError(429, 'APIGW.0308', 'req-9', 7))?.extensions).toEqual({
      upstream: { status: 429, errorCode: 'APIGW.0308', requestId: 'req-9' }, retryAfterSeconds: 7,
    });
  });

  it('knows nothing of other errors', () => {
    expect(toPublicError(new Error('boom'))).toBeUndefined();
  });
});

describe('createFormatError()', () => {
  const formatted = { message: 'boom at /srv/app.ts:3', path: ['backups'], locations: [{ line: 1, column: 3 }], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['Error: boom', '  at x (/srv/app.ts:3:1)'] } };

  it('masks anything unknown, keeps path and locations, and reports the original', () => {
    const masked: unknown[] = [];
    const original = new Error('boom');
    const out = createFormatError({ onMasked: (e) => masked.push(e) })(formatted, new GraphQLError('boom', { originalError: original, path: ['backups'] }));
    expect(out).toEqual({ message: 'Internal server error', path: ['backups'], locations: [{ line: 1, column: 3 }], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(masked).toEqual([original]);
  });

  it('passes the framework\'s own codes through, without a stack trace', () => {
    const out = createFormatError()({ message: 'Syntax Error', extensions: { code: 'GRAPHQL_PARSE_FAILED', stacktrace: ['x'] } }, new GraphQLError('Syntax Error'));
    expect(out).toEqual({ message: 'Syntax Error', extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
  });

  it('gives domain errors their code and message', () => {
    const out = createFormatError()(formatted, new GraphQLError('x', { path: ['backups'], originalError: new InvalidInputError('Argument "first" must be from 0 to 500, got 501.') }));
    expect(out).toEqual({ message: 'Argument "first" must be from 0 to 500, got 501.', path: ['backups'], locations: [{ line: 1, column: 3 }], extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('does not throw when the log hook does', () => {
    expect(() => createFormatError({ onMasked: () => { throw new Error('log down'); } })(formatted, new Error('x'))).not.toThrow();
  });
});
