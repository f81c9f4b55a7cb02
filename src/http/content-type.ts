/**
 * Whether a request's `Content-Type` names a body the gateway reads as it is sent: the body is
 * decoded as UTF-8 and parsed as JSON, so only `application/json` with no charset or
 * `charset=utf-8` (any case, quoted or not) is taken. Any other type, another charset, a second
 * charset or a list of types is refused (415) rather than decoded wrongly; `application/json-patch+json`
 * and the like are not JSON requests even though they start the same.
 */
export function isUtf8Json(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [essence = '', ...params] = contentType.split(';');
  if (essence.trim().toLowerCase() !== 'application/json') return false;
  let charsets = 0;
  for (const param of params) {
    if (param.trim() === '') continue;
    const eq = param.indexOf('=');
    if (eq === -1) return false;
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    charsets += 1;
    const value = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (value !== 'utf-8' || charsets > 1) return false;
  }
  return true;
}
