/**
 * An Accept header that allows no JSON answer is refused with 406 before the operation runs: no
 * upstream call, and a log line that says so rather than `ok`. A POST that accepts only
 * `text/event-stream` is GraphQL over SSE, which serves subscriptions only: a query there gets
 * one error event, and runs no more than a refused one.
 */
import { rawRequest } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

let stack: Stack;
let instance: string;
beforeAll(async () => {
  stack = await startStack();
  instance = stack.sim.store.list()[0]!.id;
});
afterAll(() => stack.close());
beforeEach(() => stack.resetCalls());

const PAGE = 'query Page($id: ID!) { backups(instanceId: $id, first: 3) { totalCount } }';
const logLineOf = (requestId: string): any[] =>
  stack.logs.map((line) => JSON.parse(line)).filter((entry) => entry.requestId === requestId && entry.msg === 'graphql operation');

const post = (accept: string, requestId: string) => rawRequest(stack.gateway.url, '/graphql', {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept, 'x-request-id': requestId },
  body: JSON.stringify({ query: PAGE, variables: { id: instance } }),
});

describe('Accept: text/event-stream', () => {
  it('is GraphQL over SSE for a POST: a query gets one BAD_REQUEST event, before any upstream call, and its log line says error', async () => {
    const res = await post('text/event-stream', 'sse-post-1');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.text).toMatch(/event: next\ndata: \{"data":null,"errors":\[\{"message":"Only subscriptions are served here[^"]*","extensions":\{"code":"BAD_REQUEST"\}\}\]\}\n\n/);
    expect(res.text).toContain('event: complete');
    expect((await stack.calls()).count).toBe(0);
    expect(logLineOf('sse-post-1')).toEqual([expect.objectContaining({ outcome: 'error', upstreamCalls: 0, errorCodes: ['BAD_REQUEST'] })]);
  });

  it('is the same for an operation already compiled (the fast path), and 406 for a GET', async () => {
    expect((await post('application/json', 'sse-warm')).json().data.backups.totalCount).toBe(1234);
    await stack.resetCalls();
    expect((await post('text/event-stream', 'sse-post-2')).text).toContain('"code":"BAD_REQUEST"');
    const get = await rawRequest(stack.gateway.url, `/graphql?query=${encodeURIComponent(PAGE)}&variables=${encodeURIComponent(JSON.stringify({ id: instance }))}`, {
      headers: { accept: 'text/event-stream', 'apollo-require-preflight': 'true', 'x-request-id': 'sse-get' },
    });
    expect(get.status).toBe(406);
    expect(get.json().errors[0].message).toMatch(/Server-sent events are served for a POST/);
    expect((await stack.calls()).count).toBe(0);
    expect(logLineOf('sse-get')).toEqual([expect.objectContaining({ outcome: 'error', upstreamCalls: 0 })]);
  });

  it('refuses a body that is no GraphQL request with 400 and a code (graphql-sse gives its refusals none)', async () => {
    for (const body of ['{}', '[]', '{"query":{}}']) {
      const res = await rawRequest(stack.gateway.url, '/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body });
      expect(res.status).toBe(400);
      expect(res.json().errors).toEqual([expect.objectContaining({ message: expect.any(String), extensions: { code: 'BAD_REQUEST' } })]);
    }
  });

  it('is answered in JSON when the header also accepts JSON', async () => {
    const res = await post('text/event-stream, application/json;q=0.9', 'sse-and-json');
    expect(res.status).toBe(200);
    expect(res.json().data.backups.totalCount).toBe(1234);
    expect((await stack.calls()).count).toBe(1);
  });
});

describe('an Accept header that allows no JSON', () => {
  it.each(['text/html', 'application/xml', 'application/json;q=0'])('Accept: %s is 406 with no upstream call', async (accept) => {
    const res = await post(accept, `no-json-${accept}`);
    expect(res.status).toBe(406);
    expect(res.json().errors[0].extensions.code).toBe('BAD_REQUEST');
    expect((await stack.calls()).count).toBe(0);
  });
});
