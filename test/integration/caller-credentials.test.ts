/**
 * Issue 16, finding 12: on a gateway with a service AK/SK, a request that brings credentials
 * and brings bad ones is UNAUTHENTICATED with no upstream call: it is never promoted to the
 * service's identity. Well-formed tokens still go through; no credentials at all still signs.
 */
import { startStack, type Stack } from '../helpers/stack';

const AK = 'HPUAEXAMPLEAK123';
const SK = 'sk-example-secret-value-0123456789';
const LIST = 'query($id: ID!) { backups(instanceId: $id, first: 1) { totalCount } }';

let stack: Stack;
let instance: string;
beforeAll(async () => {
  stack = await startStack({
    env: { HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK },
    simulator: { auth: { keys: [{ ak: AK, sk: SK }], tokens: ['caller-token'] } },
  });
  instance = stack.sim.store.list()[0]!.id;
});
afterAll(() => stack.close());
beforeEach(() => stack.resetCalls());

const MALFORMED: Array<[string, Record<string, string>]> = [
  ['Authorization: "Bearer " (no token)', { Authorization: 'Bearer ' }],
  ['Authorization: "Bearer" alone', { Authorization: 'Bearer' }],
  ['Authorization: "Bearer  tok en" (a space in the token)', { Authorization: 'Bearer  tok en' }],
  ['Authorization: Basic', { Authorization: 'Basic dXNlcjpwYXNzd29yZA==' }],
  ['Authorization of another scheme', { Authorization: 'SDK-HMAC-SHA256 Access=x, Signature=y' }],
  ['an empty Authorization', { Authorization: '' }],
  ['an X-Auth-Token of spaces', { 'X-Auth-Token': '     ' }],
  ['an empty X-Auth-Token', { 'X-Auth-Token': '' }],
  ['an X-Auth-Token with a space inside', { 'X-Auth-Token': 'caller token' }],
  ['an X-Auth-Token with a byte outside ASCII', { 'X-Auth-Token': 'caller-t\u00f6ken' }],
  ['a good X-Auth-Token beside a Basic Authorization', { 'X-Auth-Token': 'caller-token', Authorization: 'Basic dXNlcjpwYXNzd29yZA==' }],
  ['two different tokens', { 'X-Auth-Token': 'caller-token', Authorization: 'Bearer another-token' }],
];

describe('malformed caller credentials on an AK/SK gateway', () => {
  it.each(MALFORMED)('%s: UNAUTHENTICATED, no upstream call, never signed with the service AK', async (_name, headers) => {
    const logsBefore = stack.logs.length;
    const res = await stack.gql(LIST, { id: instance }, headers);

    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ backups: null });
    expect(res.body.errors.map((e: any) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    expect(JSON.stringify(res.body)).not.toMatch(/dXNlcjpwYXNzd29yZA|caller|another-token/);
    expect((await stack.calls()).count).toBe(0);
    const errors = stack.logs.slice(logsBefore).map((line) => JSON.parse(line)).filter((entry) => entry.level >= 50);
    expect(errors).toEqual([]);
  });

  it.each([
    ['X-Auth-Token', { 'X-Auth-Token': 'caller-token' }],
    ['Authorization: Bearer', { Authorization: 'Bearer caller-token' }],
    ['a lower-case scheme and two spaces', { authorization: 'bearer  caller-token' }],
    ['the same token in both headers', { 'X-Auth-Token': 'caller-token', Authorization: 'Bearer caller-token' }],
  ])('a well-formed token by %s is forwarded as the caller\'s', async (_name, headers) => {
    const res = await stack.gql(LIST, { id: instance }, headers);
    expect(res.body.errors).toBeUndefined();
    const { calls } = await stack.calls();
    expect(calls.map((c: any) => c.caller)).toEqual([expect.stringMatching(/^token:/)]);
  });

  it('a request without credentials is still signed with the service AK', async () => {
    const res = await stack.gql(LIST, { id: instance });
    expect(res.body.errors).toBeUndefined();
    expect((await stack.calls()).calls.map((c: any) => c.caller)).toEqual([`ak:${AK}`]);
  });
});
