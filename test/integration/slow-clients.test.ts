/**
 * What the HTTP server allows a client: HEADERS_TIMEOUT_MS and REQUEST_TIMEOUT_MS cut off a
 * client that sends its headers or its body slowly (408, connection closed), and MAX_CONNECTIONS
 * caps the connections held at once. Small configured values; raw sockets; each test waits for
 * the socket's close, never for a clock.
 */
import net from 'node:net';

import { startStack, type Stack } from '../helpers/stack';

/** Opens a raw socket, writes `text`, and resolves with what came back once the gateway closed it. */
function sendAndWaitForClose(stack: Stack, text: string): Promise<string> {
  const { port } = new URL(stack.gateway.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(text));
    let received = '';
    socket.on('data', (chunk) => { received += String(chunk); });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
  });
}

const errorLines = (stack: Stack): unknown[] => stack.logs.map((l) => JSON.parse(l)).filter((entry) => entry.level >= 50);

describe('slow clients', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ env: { HEADERS_TIMEOUT_MS: '200', REQUEST_TIMEOUT_MS: '400' } }); });
  afterAll(() => stack.close());

  it('cuts off a client that sends its headers slowly, with 408', async () => {
    const received = await sendAndWaitForClose(stack, 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'); // and nothing more
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(received).toContain('"code":"BAD_REQUEST"');
  });

  it('cuts off a client that sends its body slowly, with 408, and logs nothing at error level', async () => {
    const received = await sendAndWaitForClose(stack, 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query": "{ __ty');
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(errorLines(stack)).toEqual([]);
    expect((await stack.gql('{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('MAX_CONNECTIONS', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack({ env: { MAX_CONNECTIONS: '2' } }); });
  afterAll(() => stack.close());

  /** A keep-alive connection that has been answered once: the gateway holds it. */
  const held = (): Promise<net.Socket> => {
    const { port } = new URL(stack.gateway.url);
    return new Promise((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.once('data', () => resolve(socket));
    });
  };
  const connections = (): Promise<number> => new Promise((resolve, reject) => stack.gateway.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

  it('closes connections past the cap as they come, and takes new ones once others have gone', async () => {
    const [first, second] = await Promise.all([held(), held()]);
    expect(await sendAndWaitForClose(stack, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).toBe('');
    first!.destroy();
    second!.destroy();
    while ((await connections()) > 0) await new Promise((r) => setImmediate(r));
    expect((await stack.gql('{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
  });
});
