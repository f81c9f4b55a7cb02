/**
 * Aborted bodies: a client that stops half-way through its body, or whose chunked framing breaks
 * (an invalid or overflowing chunk size). Raw sockets, as such a client would send. Expected: a
 * debug line, no error-level line and no stack, nothing written after the framing's own 400, the
 * request counted as aborted, and the gateway still answering.
 */
import net from 'node:net';

import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
beforeAll(async () => { stack = await startStack(); });
afterAll(() => stack.close());

/** Resolves once a log line satisfies `match` (checked as lines arrive; the test's timeout bounds it). */
async function logLine(match: (entry: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (let seen = 0; ; await new Promise((r) => setImmediate(r))) {
    for (; seen < stack.logs.length; seen++) {
      const entry = JSON.parse(stack.logs[seen]!) as Record<string, unknown>;
      if (match(entry)) return entry;
    }
  }
}

/** Sends `head` and `body` on a raw socket, then (unless the server closes first) ends it; resolves with what came back once the socket closed. */
function send(head: string, body: string, endAfter: boolean): Promise<string> {
  const { port } = new URL(stack.gateway.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => { received += String(chunk); });
    socket.on('error', () => undefined); // a reset after the server's 400 is expected
    socket.on('close', () => resolve(received));
    socket.on('connect', () => {
      socket.write(head + body);
      if (endAfter) socket.destroy();
    });
    socket.setTimeout(20_000, () => reject(new Error('the gateway held the socket')));
  });
}

const HEAD = (requestId: string, framing: string): string =>
  `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: ${requestId}\r\n${framing}\r\n`;

const ABORTED_METRIC = /http_requests_total\{route="\/graphql",method="POST",status="aborted"\} (\d+)/;
const abortedCount = async (): Promise<number> => Number(ABORTED_METRIC.exec((await rawRequest(stack.gateway.url, '/metrics')).text)?.[1] ?? 0);

describe.each([
  ['a client that stops mid-body', 'stops-mid-body', 'Content-Length: 100\r\n', '{"query": "{ __typ', true],
  ['an invalid chunk size', 'invalid-chunk', 'Transfer-Encoding: chunked\r\n', '5\r\n{"que\r\nzz\r\n', false],
  ['an overflowing chunk size', 'overflowing-chunk', 'Transfer-Encoding: chunked\r\n', '5\r\n{"que\r\nffffffffffffffffffff\r\n', false],
])('%s', (_name, requestId, framing, body, clientCloses) => {
  it('is a debug line, nothing at error level, nothing written but the framing\'s 400, and the gateway still answers', async () => {
    const logsBefore = stack.logs.length;
    const abortedBefore = await abortedCount();
    const received = await send(HEAD(requestId, framing), body, clientCloses);
    const line = await logLine((entry) => entry.requestId === requestId);
    expect(line).toMatchObject({ level: 20, msg: 'the client left before its request body arrived' });
    expect(JSON.stringify(line)).not.toMatch(/stack|Error: aborted/);
    const lines = stack.logs.slice(logsBefore).map((l) => JSON.parse(l));
    expect(lines.filter((entry) => entry.level >= 50)).toEqual([]);
    // Node's parser answers broken framing with its 400 (answerClientError); no 500 follows it.
    if (clientCloses) expect(received).toBe('');
    else expect(received.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 400']);
    expect(await abortedCount()).toBe(abortedBefore + 1);
    expect((await stack.gql('{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
  });
});
