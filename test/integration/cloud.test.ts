/**
 * Real-cloud mode against the simulator, which verifies AK/SK signatures with its own code:
 * signing, token forwarding, projects, language, and no secret anywhere a failing request reaches.
 */
import { PROJECT } from '../helpers/simulator';
import { startStack, type Stack } from '../helpers/stack';
import { createUpstreamClient } from '../../src/upstream/client';

const AK = 'HPUAEXAMPLEAK123';
const SK = 'sk-example-secret-value-0123456789';
const SECURITY_TOKEN = 'temporary-security-token-value';
const LIST = `query($id: ID!, $first: Int, $after: String, $filter: BackupFilter) {
  backups(instanceId: $id, first: $first, after: $after, filter: $filter) { totalCount nodes { id } pageInfo { hasNextPage endCursor } }
}`;

describe('AK/SK mode', () => {
  let stack: Stack;
  let big: string;
  beforeAll(async () => {
    stack = await startStack({
      env: { HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK },
      simulator: { auth: { keys: [{ ak: AK, sk: SK }], tokens: ['caller-token'] } },
    });
    big = stack.sim.store.list()[0]!.id;
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.resetCalls());

  it('signs listing and paging calls that the simulator verifies', async () => {
    const first = await stack.gql(LIST, { id: big, first: 250 });
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.backups.nodes).toHaveLength(250);
    const next = await stack.gql(LIST, { id: big, first: 30, after: first.body.data.backups.pageInfo.endCursor });
    expect(next.body.data.backups.nodes.map((n: any) => n.id)).toEqual(stack.sim.store.get(big)!.backups.slice(250, 280).map((b) => b.id));
    const log = await stack.calls();
    expect(log.calls.every((c: any) => c.status === 200 && c.caller === `ak:${AK}` && c.headers.xProjectId === PROJECT)).toBe(true);
  });

  it('signs time filters whose + offsets travel as %2B', async () => {
    const res = await stack.gql(LIST, { id: big, first: 5, filter: { beginTime: '2026-10-30T00:00:00+08:00', endTime: '2026-10-31T00:00:00+08:00', type: 'INCREMENTAL' } });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.backups.totalCount).toBeGreaterThan(0);
    expect((await stack.calls()).calls[0].query).toContain('%2B0000');
  });

  it('signs non-ASCII and reserved characters in query values (client level: ids through GraphQL are plain tokens)', async () => {
    const client = createUpstreamClient({ endpoint: stack.sim.url, timeoutMs: 2000, retries: 0 });
    try {
      const result = await client.listBackups({ projectId: PROJECT, instanceId: big, backupId: 'ünïcødé 中文+&=/?#%', offset: 0, limit: 1 }, { auth: { kind: 'aksk', ak: AK, sk: SK } });
      expect(result.body).toEqual({ backups: [], total_count: 0 });
    } finally {
      client.close();
    }
  });

  it('prefers the caller\'s token over the service AK/SK', async () => {
    const res = await stack.gql(LIST, { id: big, first: 1 }, { 'X-Auth-Token': 'caller-token' });
    expect(res.body.errors).toBeUndefined();
    expect((await stack.calls()).calls[0].caller).toMatch(/^token:/);
  });

  it('answers a wrong SK with UNAUTHENTICATED and the upstream code, without retrying', async () => {
    const wrong = await startStack({ env: { HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: 'not-the-secret', UPSTREAM_RETRIES: '3' }, simulator: { auth: { keys: [{ ak: AK, sk: SK }] } } });
    try {
      const res = await wrong.gql(LIST, { id: big, first: 1 });
      expect(res.body.data.backups).toBeNull();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', upstream: { status: 401, errorCode: 'APIG.0301' } });
      expect((await wrong.calls()).count).toBe(1);
    } finally {
      await wrong.close();
    }
  });

  it('stops using a refused AK after three 401s in a row, before the cloud would lock it', async () => {
    const wrong = await startStack({ env: { HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: 'not-the-secret' }, simulator: { auth: { keys: [{ ak: AK, sk: SK }] } } });
    try {
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push((await wrong.gql(LIST, { id: big, first: 1 })).body.errors[0].extensions);
      expect(answers.map((e: any) => e.code)).toEqual(Array(6).fill('UNAUTHENTICATED'));
      expect(answers.slice(3).every((e: any) => e.retryAfterSeconds > 200 && e.upstream === undefined)).toBe(true);
      expect((await wrong.calls()).count).toBe(3);
    } finally {
      await wrong.close();
    }
  });

  it('sends and signs X-Security-Token for temporary credentials', async () => {
    const keys = [{ ak: AK, sk: SK, securityToken: SECURITY_TOKEN }];
    const temp = await startStack({ env: { HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK, HUAWEICLOUD_SDK_SECURITY_TOKEN: SECURITY_TOKEN }, simulator: { auth: { keys } } });
    const without = await startStack({ env: { HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK }, simulator: { auth: { keys } } });
    try {
      expect((await temp.gql(LIST, { id: big, first: 1 })).body.errors).toBeUndefined();
      expect((await without.gql(LIST, { id: big, first: 1 })).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    } finally {
      await temp.close();
      await without.close();
    }
  });

  it('puts no token, AK, SK, security token or signature in any response or log line of a failing request', async () => {
    const temp = await startStack({
      env: { HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: SK, HUAWEICLOUD_SDK_SECURITY_TOKEN: SECURITY_TOKEN, LOG_LEVEL: 'trace' },
      simulator: { auth: { keys: [{ ak: AK, sk: 'other' }], tokens: ['caller-token'] } },
    });
    try {
      await temp.setFaults([{ kind: 'error', status: 500, instanceId: big }]);
      const responses = [
        await temp.gql(LIST, { id: big, first: 1 }), // signed, refused
        await temp.gql(LIST, { id: big, first: 1 }, { 'X-Auth-Token': 'caller-token', Authorization: 'Bearer caller-token' }), // token, 500
        await temp.gql('{ backups(instanceId: "x/y") { totalCount } }', {}, { 'X-Auth-Token': 'caller-token' }), // bad input
      ];
      const everything = [...responses.map((r) => JSON.stringify(r)), ...temp.logs].join('\n');
      expect(temp.logs.some((l) => l.includes('upstream call'))).toBe(true); // the log is not empty
      for (const secret of ['caller-token', AK, SK, SECURITY_TOKEN, 'Signature=', 'SDK-HMAC-SHA256']) expect(everything).not.toContain(secret);
    } finally {
      await temp.close();
    }
  });
});

describe('tokens, projects and language', () => {
  const BIG_TOKEN = `tok-${'x'.repeat(32 * 1024)}`;
  let stack: Stack;
  let instance: string;
  beforeAll(async () => {
    stack = await startStack({ simulator: { auth: { tokens: [BIG_TOKEN, 'short-token'] } } });
    instance = stack.sim.store.list()[3]!.id;
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.resetCalls());

  it('forwards a 32 KB token unchanged (the simulator accepts only the exact value) and never echoes it', async () => {
    const res = await stack.gql(LIST, { id: instance, first: 2 }, { 'X-Auth-Token': BIG_TOKEN });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(JSON.stringify(res.body)).not.toContain('xxxxxxxx');
    const truncated = await stack.gql(LIST, { id: instance, first: 2 }, { 'X-Auth-Token': BIG_TOKEN.slice(0, -1) });
    expect(truncated.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('selects the project from X-Project-Id, defaulting to HUAWEICLOUD_SDK_PROJECT_ID', async () => {
    await stack.gql(LIST, { id: instance, first: 1 }, { 'X-Auth-Token': 'short-token' });
    await stack.gql(LIST, { id: instance, first: 1 }, { 'X-Auth-Token': 'short-token', 'X-Project-Id': 'other_project-2' });
    expect((await stack.calls()).calls.map((c: any) => c.projectId)).toEqual([PROJECT, 'other_project-2']);
  });

  it('binds cursors to the resolved project: the default named explicitly is the same project, another is not', async () => {
    const headers = { 'X-Auth-Token': 'short-token' };
    const page = await stack.gql(LIST, { id: instance, first: 2 }, headers);
    const cursor = page.body.data.backups.pageInfo.endCursor;
    expect((await stack.gql(LIST, { id: instance, first: 2, after: cursor }, { ...headers, 'X-Project-Id': PROJECT })).body.errors).toBeUndefined();
    expect((await stack.gql(LIST, { id: instance, first: 2, after: cursor }, { ...headers, 'X-Project-Id': 'another' })).body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('passes Accept-Language on as X-Language', async () => {
    // One instance each: the language changes no answer the gateway relays, so the page cache
    // (1 ms here) does not key on it, and a repeat within the millisecond would be a hit.
    const [zh, en, fr] = stack.sim.store.list().slice(4, 7).map((i) => i.id);
    await stack.gql(LIST, { id: zh, first: 1 }, { 'X-Auth-Token': 'short-token', 'Accept-Language': 'zh-CN,zh;q=0.9,en;q=0.8' });
    await stack.gql(LIST, { id: en, first: 1 }, { 'X-Auth-Token': 'short-token', 'Accept-Language': 'en-GB' });
    await stack.gql(LIST, { id: fr, first: 1 }, { 'X-Auth-Token': 'short-token', 'Accept-Language': 'fr' });
    expect((await stack.calls()).calls.map((c: any) => c.headers.xLanguage)).toEqual(['zh-cn', 'en-us', undefined]);
  });
});
