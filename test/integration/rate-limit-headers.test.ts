/**
 * Issue 18, the IETF rate-limit headers (DESIGN.md, "Browser frontends"), over real HTTP: every
 * GraphQL answer carries its caller identity's upstream budget, `RateLimit-Policy: <budget>;w=60`
 * and `RateLimit: limit=<budget>, remaining=R, reset=S`, on Apollo's pipeline and the fast path
 * alike; `remaining` falls by the upstream calls made, and a request with no identity gets none.
 * The budget's clock is the test's (no real waiting): each step moves it past the 1 ms cache.
 */
import { rawRequest, type RawResponse } from '../helpers/http';
import { PROJECT } from '../helpers/simulator';
import { startStack, type Stack } from '../helpers/stack';

const BUDGET = 5;
const TOKEN = 'a-frontend-users-iam-token';
const [AK, SK] = ['RATELIMITAK0001', 'rate-limit-test-sk'];
const PAGE = 'query Page($id: ID!) { backups(instanceId: $id, first: 1) { totalCount } }';

let clock = Date.UTC(2026, 0, 1, 12);
let stack: Stack;
let instanceId: string;
beforeAll(async () => {
  // The service's AK/SK for requests without a token; a user's token for the others.
  stack = await startStack({
    env: { UPSTREAM_BUDGET_PER_MINUTE: String(BUDGET), HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK },
    simulator: { auth: { tokens: [TOKEN], keys: [{ ak: AK, sk: SK }] } },
    now: () => clock,
  });
  instanceId = stack.sim.store.list()[0]!.id;
});
afterAll(() => stack.close());

/** The RateLimit header's three numbers, after checking the policy it goes with. */
function rateLimit(res: { headers: Record<string, unknown> }): { limit: number; remaining: number; reset: number } {
  expect(res.headers['ratelimit-policy']).toBe(`${BUDGET};w=60`);
  const m = /^limit=(\d+), remaining=(\d+), reset=(\d+)$/.exec(String(res.headers.ratelimit));
  expect(m).not.toBeNull();
  return { limit: Number(m![1]), remaining: Number(m![2]), reset: Number(m![3]) };
}

async function fastPathAnswers(): Promise<number> {
  const text = (await rawRequest(stack.gateway.url, '/metrics')).text;
  return Number(/^graphql_fast_path_operations_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

const getPage = (headers: Record<string, string>): Promise<RawResponse> =>
  rawRequest(stack.gateway.url, `/graphql?${new URLSearchParams({ query: PAGE, variables: JSON.stringify({ id: instanceId }) })}`, { headers });

describe('RateLimit headers', () => {
  it('say the whole budget before any call, with nothing to reset', async () => {
    const res = await stack.gql('{ __typename }');
    expect(rateLimit(res)).toEqual({ limit: BUDGET, remaining: BUDGET, reset: 0 });
  });

  it('count down by the upstream calls made, on Apollo\'s pipeline, the fast path and GET alike, until RATE_LIMITED', async () => {
    await stack.resetCalls();
    const first = clock + 1000; // the first call's time
    const fastBefore = await fastPathAnswers();
    const answers = [
      () => stack.gql(PAGE, { id: instanceId }), // Apollo
      () => stack.gql(PAGE, { id: instanceId }), // the fast path: a repeat
      () => getPage({ 'x-project-id': PROJECT }), // a GET, as urql sends it
      () => stack.gql('{ instance(id: "no-such-instance") { backups(first: 1) { totalCount } } }'), // an answer with an error
    ];
    for (const send of answers) {
      clock += 1000;
      const res = await send();
      expect(res.status).toBe(200);
      const calls = (await stack.calls()).count;
      expect(rateLimit(res)).toEqual({ limit: BUDGET, remaining: BUDGET - calls, reset: Math.ceil((first + 60_000 - clock) / 1000) });
    }
    expect((await stack.calls()).count).toBe(4);
    expect(await fastPathAnswers()).toBe(fastBefore + 1);

    clock += 1000;
    const last = await stack.gql(PAGE, { id: instanceId });
    expect(rateLimit(last)).toEqual({ limit: BUDGET, remaining: 0, reset: 56 });
    clock += 1000;
    const refused = await stack.gql(PAGE, { id: instanceId });
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 55 });
    expect(rateLimit(refused)).toEqual({ limit: BUDGET, remaining: 0, reset: 55 }); // when one more call is allowed
    expect((await stack.calls()).count).toBe(5);
  });

  it('are per caller identity: a user\'s token has its own budget', async () => {
    await stack.resetCalls();
    clock += 1000;
    const res = await stack.gql(PAGE, { id: instanceId }, { 'x-auth-token': TOKEN });
    expect(res.body.data.backups.totalCount).toBeGreaterThan(0);
    expect(rateLimit(res)).toEqual({ limit: BUDGET, remaining: BUDGET - 1, reset: 60 });
    expect(rateLimit(await stack.gql('{ __typename }')).remaining).toBe(0); // the service's, spent above
  });

  it('come back whole once the window has passed', async () => {
    clock += 61_000;
    expect(rateLimit(await stack.gql('{ __typename }'))).toEqual({ limit: BUDGET, remaining: BUDGET, reset: 0 });
  });

  it('are absent when the request has no caller identity (malformed credentials) or was refused before it had one', async () => {
    expect(rateLimit(await stack.gql(PAGE, { id: instanceId })).limit).toBe(BUDGET); // the same request, well-formed
    const malformed = await stack.gql(PAGE, { id: instanceId }, { authorization: 'Basic dXNlcjpwdw==' });
    expect(malformed.status).toBe(200);
    expect(malformed.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const unreadable = await rawRequest(stack.gateway.url, '/graphql', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<q/>' });
    expect(unreadable.status).toBe(415);
    for (const res of [malformed, unreadable]) {
      expect(res.headers.ratelimit).toBeUndefined();
      expect(res.headers['ratelimit-policy']).toBeUndefined();
    }
  });
});
