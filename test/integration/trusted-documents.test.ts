/**
 * Issue 20, trusted documents (DESIGN.md, "Trusted documents and persisted queries"), over real
 * HTTP and WebSockets against the simulator, with a manifest a real client tool wrote: GraphQL
 * Code Generator's client preset (`persistedDocuments`, sha256) over the example console's
 * documents (web/console/, Apollo's `gql` tag). In `require` mode the console's operations are
 * served (by documentId in POST and GET, by APQ hash, through Apollo Client's persisted query
 * link; its subscription by documentId over graphql-ws and SSE), and everything else is
 * 400 PERSISTED_QUERY_NOT_IN_LIST with no upstream call, an APQ registration included, and
 * GraphiQL is off. In `allow` mode both kinds run, counted apart. A manifest whose id is not its
 * body's SHA-256 stops `node dist/index.js` with one line.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { getOperationAST, parse, type DocumentNode } from 'graphql';
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';

import type { Backup } from '../../src/backups/model';
import { rawRequest } from '../helpers/http';
import { metric } from '../helpers/live-clients';
import { spawnGateway } from '../helpers/process';
import { startStack, type Stack } from '../helpers/stack';
import { StandInLiveSource } from '../helpers/stand-in-live-source';

const ROOT = path.join(__dirname, '..', '..');
const NOT_IN_LIST = 'PERSISTED_QUERY_NOT_IN_LIST';

/** The console's operations as the client preset listed them: `sha256:<hex>` → document. */
let manifestFile: string;
let manifest: Record<string, string>;
let workDir: string;

/** The manifest's id of the console's operation named `name`, without `sha256:`. */
function idOf(name: string): string {
  const found = Object.entries(manifest).find(([, body]) => getOperationAST(parse(body), name));
  if (!found) throw new Error(`the manifest has no operation ${name}: ${JSON.stringify(manifest)}`);
  return found[0].replace(/^sha256:/, '');
}

/**
 * GraphQL Code Generator's programmatic generate() with the client preset, as a frontend's build
 * runs it, writing `persisted-documents.json` into `outDir`. In a child node: the CLI loads ESM
 * (yargs), which jest's module system refuses without --experimental-vm-modules.
 */
async function generatePersistedDocuments(outDir: string): Promise<void> {
  const config = {
    schema: path.join(ROOT, 'schema/*.graphql'),
    documents: [path.join(ROOT, 'web/console/**/*.tsx'), path.join(ROOT, 'web/console/**/*.ts')],
    silent: true,
    generates: { [`${outDir}/`]: { preset: 'client', presetConfig: { persistedDocuments: { hashAlgorithm: 'sha256' } } } },
  };
  const script = "require('@graphql-codegen/cli').generate(JSON.parse(process.argv[1]), true).catch((e) => { console.error(e); process.exit(1); })";
  await promisify(execFile)(process.execPath, ['-e', script, JSON.stringify(config)], { cwd: ROOT });
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'trusted-documents-'));
  await generatePersistedDocuments(path.join(workDir, 'gql'));
  manifestFile = path.join(workDir, 'gql', 'persisted-documents.json');
  manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
});

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function backupOf(instanceId: string): Backup {
  return {
    id: '43e4feaab48f11e89039fa163ebaa7e4br01', instanceId, name: 'nightly', type: 'AUTO', status: 'BUILDING', sizeKb: 1024,
    beginTime: new Date('2026-12-01T00:00:00Z'), endTime: null, datastore: { type: 'MYSQL', version: '8.0' }, databases: [],
    associatedWithDdm: false, minDataVolumeCapacityForRestore: null,
  };
}

/** A gateway over the simulator with the console's manifest in `mode`, fresh for each test; live changes from a stand-in the tests push to. */
function withTrustedStack(mode: 'allow' | 'require'): { stack: Stack; live: StandInLiveSource; instanceId: string } {
  const state = {} as { stack: Stack; live: StandInLiveSource; instanceId: string };
  beforeEach(async () => {
    state.live = new StandInLiveSource();
    state.stack = await startStack({ live: state.live, env: { TRUSTED_DOCUMENTS: manifestFile, TRUSTED_DOCUMENTS_MODE: mode, GRAPHIQL: 'true' } });
    state.instanceId = state.stack.sim.store.list()[0]!.id;
  });
  afterEach(() => state.stack.close());
  return state;
}

const post = (stack: Stack, body: unknown, headers: Record<string, string> = {}) => rawRequest(stack.gateway.url, '/graphql', {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
});
const get = (stack: Stack, params: Record<string, string>, headers: Record<string, string> = { 'apollo-require-preflight': 'true' }) =>
  rawRequest(stack.gateway.url, `/graphql?${new URLSearchParams(params)}`, { headers });
const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** What a page of the console's query answers, whoever sent it. */
function expectPage(body: any, instanceId: string): void {
  expect(body.errors).toBeUndefined();
  expect(body.data.instance.id).toBe(instanceId);
  expect(body.data.instance.backups.edges.length).toBeGreaterThan(0);
}

/** A 400 with this code and nothing sent upstream. */
async function expectRefused(stack: Stack, res: Awaited<ReturnType<typeof rawRequest>>, code = NOT_IN_LIST): Promise<void> {
  expect(res.status).toBe(400);
  expect(res.json().errors).toEqual([{ message: expect.any(String), extensions: { code } }]);
  expect((await stack.calls()).count).toBe(0);
}

/** A document Apollo Client's persisted query link names by the manifest's id for its operation, as generatePersistedQueryIdsFromManifest does. */
function manifestHash(document: DocumentNode): string {
  return idOf(getOperationAST(document)!.name!.value);
}

describe('TRUSTED_DOCUMENTS_MODE=require, with the console manifest GraphQL Code Generator wrote', () => {
  const on = withTrustedStack('require');
  const variables = () => ({ id: on.instanceId, first: 5 });

  it("serves the console's query by documentId in a POST, from the operation compiled at start-up (the fast path)", async () => {
    const { stack, instanceId } = on;
    const fastBefore = await metric(stack.gateway.url, 'graphql_fast_path_operations_total');
    const res = await post(stack, { documentId: `sha256:${idOf('InstanceBackups')}`, variables: variables() });
    expect(res.status).toBe(200);
    expectPage(res.json(), instanceId);
    expect((await stack.calls()).count).toBeGreaterThan(0);
    // Never seen by Apollo before, and answered without it: parsed and validated at start-up only.
    expect(await metric(stack.gateway.url, 'graphql_fast_path_operations_total')).toBe(fastBefore + 1);
    expect(stack.gateway.caches.documents.size).toBe(0);
    // Its text alone is listed too (Apollo Router's require_id: false).
    expectPage((await post(stack, { query: manifest[`sha256:${idOf('InstanceBackups')}`], variables: variables() })).json(), instanceId);
  });

  it('serves it by documentId in a GET from the operation compiled at start-up, under Apollo\'s GET rules (a GET without a preflight header is a CSRF refusal)', async () => {
    const { stack, instanceId } = on;
    const params = { documentId: idOf('InstanceBackups'), variables: JSON.stringify(variables()) };
    const fastBefore = await metric(stack.gateway.url, 'graphql_fast_path_operations_total');
    const res = await get(stack, params);
    expect(res.status).toBe(200);
    expectPage(res.json(), instanceId);
    expect(await metric(stack.gateway.url, 'graphql_fast_path_operations_total')).toBe(fastBefore + 1);
    expect(stack.gateway.caches.documents.size).toBe(0); // Apollo parsed nothing
    await stack.resetCalls();
    await expectRefused(stack, await get(stack, params, {}), 'BAD_REQUEST');
    // A parameter given twice is refused, as Apollo refuses it, rather than read once by chance.
    const twice = await rawRequest(stack.gateway.url, `/graphql?documentId=${idOf('InstanceBackups')}&documentId=${sha256('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(twice.status).toBe(400);
    expect(twice.json().errors[0]).toEqual({ message: "The 'documentId' search parameter may only be specified once.", extensions: { code: 'BAD_REQUEST' } });
  });

  it('serves it by APQ hash with no registration, and through Apollo Client\'s persisted query link', async () => {
    const { stack, instanceId } = on;
    const res = await post(stack, { extensions: apq(idOf('InstanceBackups')), variables: variables() });
    expect(res.status).toBe(200);
    expectPage(res.json(), instanceId);

    const sent: unknown[] = [];
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new PersistedQueryLink({ generateHash: manifestHash }).concat(new HttpLink({
        uri: `${stack.gateway.url}/graphql`,
        fetch: async (input, init) => { sent.push(JSON.parse(String(init?.body))); return fetch(input, init); },
      })),
    });
    const { data } = await client.query<any>({ query: parse(manifest[`sha256:${idOf('InstanceBackups')}`]!), variables: variables() });
    expect(data.instance.id).toBe(instanceId);
    // The link sent the hash alone, once: nothing was refused or retried with the text.
    expect(sent).toEqual([{ operationName: 'InstanceBackups', variables: variables(), extensions: { clientLibrary: expect.anything(), ...apq(idOf('InstanceBackups')) } }]);
    client.stop();
  });

  it("serves the console's subscription by documentId over graphql-ws and over SSE", async () => {
    const { stack, live, instanceId } = on;
    const documentId = `sha256:${idOf('BackupChanges')}`;
    const ws = createWsClient({ url: `${stack.gateway.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    // graphql-ws's payload must carry a string `query`: an id-only subscribe sends ''.
    const overWs = ws.iterate({ query: '', documentId, variables: { instanceId } } as never);
    const sse = createSseClient({ url: `${stack.gateway.url}/graphql`, retryAttempts: 0 });
    const overSse = sse.iterate({ query: '', documentId, variables: { instanceId } } as never);
    const [wsFirst, sseFirst] = [overWs.next(), overSse.next()];
    await live.untilOpen(2);
    live.push({ kind: 'ADDED', backup: backupOf(instanceId), totalCount: 9 });
    for (const first of [wsFirst, sseFirst]) {
      expect((await first).value).toEqual({ data: { backupChanges: { kind: 'ADDED', totalCount: 9, backup: expect.objectContaining({ id: '43e4feaab48f11e89039fa163ebaa7e4br01', status: 'BUILDING' }) } } });
    }
    await overWs.return!();
    await overSse.return!();
    await ws.dispose();
    sse.dispose();
  });

  it('refuses a free-form query, an unlisted APQ hash and an APQ registration of an unlisted document, with no upstream call', async () => {
    const { stack, instanceId } = on;
    const unlisted = `{ instance(id: "${instanceId}") { backups(first: 1) { totalCount } } }`;
    await expectRefused(stack, await post(stack, { query: unlisted }));
    await expectRefused(stack, await post(stack, { extensions: apq(sha256(unlisted)) }));
    await expectRefused(stack, await post(stack, { query: unlisted, extensions: apq(sha256(unlisted)) }));
    await expectRefused(stack, await get(stack, { query: unlisted }));
    await expectRefused(stack, await post(stack, { documentId: sha256(unlisted) }));
    // Registration refused: the hash alone is still unknown.
    await expectRefused(stack, await post(stack, { extensions: apq(sha256(unlisted)) }));
    // A listed id with another text is not a way in either.
    await expectRefused(stack, await post(stack, { documentId: idOf('InstanceBackups'), query: unlisted }), 'BAD_REQUEST');
    expect(await metric(stack.gateway.url, 'graphql_trusted_documents_total', 'outcome="refused"')).toBe(7);
    expect(stack.logs.filter((l) => l.includes('"graphql operation"') && l.includes(NOT_IN_LIST))).toHaveLength(6);
  });

  it('refuses an unlisted subscription: an error message over graphql-ws, a 400 over SSE', async () => {
    const { stack, live, instanceId } = on;
    const unlisted = `subscription { backupChanges(instanceId: "${instanceId}") { kind } }`;
    const ws = createWsClient({ url: `${stack.gateway.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    await expect(ws.iterate({ query: unlisted }).next()).rejects.toEqual([expect.objectContaining({ extensions: { code: NOT_IN_LIST } })]);
    await ws.dispose();
    await expectRefused(stack, await post(stack, { query: unlisted }, { accept: 'text/event-stream' }));
    expect(live.watches).toHaveLength(0);
  });

  it('serves no GraphiQL, whatever GRAPHIQL says', async () => {
    const { stack } = on;
    const page = await rawRequest(stack.gateway.url, '/graphql', { headers: { accept: 'text/html' } });
    expect(page.headers['content-type']).not.toMatch(/text\/html/);
    expect(page.status).toBe(406);
    expect((await rawRequest(stack.gateway.url, '/graphiql/graphiql.js')).status).toBe(404);
    expect(stack.logs.some((l) => l.includes('GraphiQL is off: TRUSTED_DOCUMENTS_MODE=require'))).toBe(true);
  });
});

describe('TRUSTED_DOCUMENTS_MODE=allow', () => {
  const on = withTrustedStack('allow');

  it('runs listed documents by id and free-form operations alike, counted apart; an unknown id is PERSISTED_QUERY_NOT_FOUND', async () => {
    const { stack, instanceId } = on;
    expectPage((await post(stack, { documentId: idOf('InstanceBackups'), variables: { id: instanceId, first: 2 } })).json(), instanceId);
    const freeForm = await stack.gql(`{ instance(id: "${instanceId}") { backups(first: 1) { totalCount } } }`);
    expect(freeForm.status).toBe(200);
    expect(freeForm.body.data.instance.backups.totalCount).toBeGreaterThan(0);
    // Apollo's APQ as without a list: an unknown hash asks for the text, which then registers.
    const text = '{ __typename }';
    expect((await post(stack, { extensions: apq(sha256(text)) })).json().errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await post(stack, { query: text, extensions: apq(sha256(text)) })).json()).toEqual({ data: { __typename: 'Query' } });
    await stack.resetCalls();
    await expectRefused(stack, await post(stack, { documentId: sha256(text) }), 'PERSISTED_QUERY_NOT_FOUND');
    expect(await metric(stack.gateway.url, 'graphql_trusted_documents_total', 'outcome="listed"')).toBe(1);
    expect(await metric(stack.gateway.url, 'graphql_trusted_documents_total', 'outcome="unlisted"')).toBe(3);
    expect(await metric(stack.gateway.url, 'graphql_trusted_documents_total', 'outcome="refused"')).toBe(1);
  });
});

describe('node dist/index.js with a manifest whose id is not its body\'s SHA-256', () => {
  it('exits 1 with one line naming the file and the entry', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'trusted-bad-')), 'manifest.json');
    const body = 'query InstanceBackups { __typename }';
    const wrongId = sha256(`${body} `);
    writeFileSync(file, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: wrongId, name: 'InstanceBackups', type: 'query', body }] }));
    const { child } = spawnGateway({ PORT: '0', TRUSTED_DOCUMENTS: file, TRUSTED_DOCUMENTS_MODE: 'require' });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      `configuration error: TRUSTED_DOCUMENTS ${JSON.stringify(file)}: entry "${wrongId}" (operation "InstanceBackups"): the id is not the SHA-256 of the body (which is ${sha256(body)})`,
    ]);
    rmSync(path.dirname(file), { recursive: true, force: true });
  });
});
