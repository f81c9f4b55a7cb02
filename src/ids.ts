/** Ids (instance, backup, project) are opaque tokens: letters, digits, `-` and `_`, 1 to 64 characters (DESIGN.md). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isId(value: string): boolean {
  return ID_PATTERN.test(value);
}
