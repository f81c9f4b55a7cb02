/** Ids (instance, backup, project) are opaque tokens: letters, digits, `-` and `_`, 1 to 64 characters (DESIGN.md). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Whether a value is an id. It takes `unknown` because some values arrive untyped (`_entities`
 * representations are `_Any`): `RegExp#test` turns its argument into a string, so without the
 * type check `undefined` passed as the id "undefined" and `["x"]` as "x".
 */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
