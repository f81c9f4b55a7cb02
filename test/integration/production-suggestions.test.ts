/**
 * Issue 16, finding 11: with introspection off (NODE_ENV=production) no error message may suggest
 * schema names ("Did you mean ..."), whichever stage wrote it: validation, or the coercion of
 * variables at execution, which Apollo's hideSchemaDetailsFromClientErrors does not reach. Each
 * request goes twice: the repeat of a validated operation takes the fast path.
 */
import { startStack, type Stack } from '../helpers/stack';

const PAGE = 'query($id: ID!, $filter: BackupFilter) { backups(instanceId: $id, first: 1, filter: $filter) { totalCount } }';

const SUGGESTING: Array<[string, string, Record<string, unknown> | undefined, string]> = [
  ['an enum value in a variable', PAGE, { id: 'i1', filter: { type: 'AUT' } }, 'AUTO'],
  ['an input field in a variable', PAGE, { id: 'i1', filter: { typ: 'AUTO' } }, '"type"'],
  ['an enum value in the document', '{ backups(instanceId: "i1", filter: { type: AUT }) { totalCount } }', undefined, 'AUTO'],
  ['an argument in the document', '{ backups(instanceID: "i1") { totalCount } }', undefined, 'instanceId'],
  ['a field in the document', '{ backups(instanceId: "i1") { totalCont } }', undefined, 'totalCount'],
];

describe('schema suggestions in error messages', () => {
  let production: Stack;
  let development: Stack;
  beforeAll(async () => {
    [production, development] = await Promise.all([startStack({ env: { NODE_ENV: 'production' } }), startStack()]);
  });
  afterAll(() => Promise.all([production?.close(), development?.close()]));

  it.each(SUGGESTING)('in production, %s: none, on the first request or its repeat', async (_name, query, variables) => {
    for (let i = 0; i < 2; i++) {
      const { body } = await production.gql(query, variables);
      expect(body.errors.length).toBeGreaterThan(0);
      for (const error of body.errors) {
        expect(error.message).not.toMatch(/did you mean/i);
        expect(error.extensions.code).toMatch(/^(BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED)$/);
      }
    }
    expect((await production.calls()).count).toBe(0);
  });

  it('in production, the message still says what is wrong', async () => {
    const { body } = await production.gql(PAGE, { id: 'i1', filter: { type: 'AUT' } });
    expect(body.errors[0].message).toBe('Variable "$filter" got invalid value "AUT" at "filter.type"; Value "AUT" does not exist in "BackupType" enum.');
    // graphql-armor's "[Suggestion hidden]?" goes too.
    const field = await production.gql(PAGE, { id: 'i1', filter: { typ: 'AUTO' } });
    expect(field.body.errors[0].message).toBe('Variable "$filter" got invalid value { typ: "AUTO" }; Field "typ" is not defined by type "BackupFilter".');
  });

  it('in development, an enum value in a variable is still suggested', async () => {
    for (let i = 0; i < 2; i++) {
      const { body } = await development.gql(PAGE, { id: 'i1', filter: { type: 'AUT' } });
      expect(body.errors[0].message).toMatch(/Did you mean the enum value "AUTO"\?$/);
    }
  });
});
