import { isUtf8Json } from '../../src/http/content-type';

describe('isUtf8Json()', () => {
  it.each([
    'application/json', 'Application/JSON', ' application/json ', 'application/json;', 'application/json; charset=utf-8',
    'application/json;charset=UTF-8', 'application/json; charset="utf-8"', 'application/json; version=1; charset=utf-8',
  ])('takes %p', (type) => {
    expect(isUtf8Json(type)).toBe(true);
  });

  it.each([
    undefined, '', 'text/plain', 'application/jsonx', 'application/json-patch+json', 'application/graphql-response+json',
    'application/json, text/plain', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json; charset=utf8',
    'application/json; charset=', 'application/json; charset="', 'application/json; charset=utf-8; charset=utf-8', 'application/json; utf-8',
  ])('refuses %p', (type) => {
    expect(isUtf8Json(type)).toBe(false);
  });
});
