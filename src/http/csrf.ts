/**
 * CSRF prevention: a request is taken only when a browser could have sent it after a CORS
 * preflight alone, that is with a non-simple content type or one of the headers below (DESIGN.md,
 * "Browser frontends"). Apollo applies the rule to GETs (`csrfPrevention` in graphql/apollo.ts,
 * with this list); the endpoint applies it to POSTs before their body is read, because it refuses
 * every non-JSON body itself before Apollo sees one.
 */

/**
 * Headers a page can only send after a preflight, and that a frontend sends anyway: its token,
 * its project, or Apollo's markers. urql's default GET with `X-Project-Id` is taken.
 */
export const CSRF_PREVENTION_HEADERS = ['x-auth-token', 'authorization', 'x-project-id', 'apollo-require-preflight', 'x-apollo-operation-name'];

/** The content types a page may send in a form or a plain fetch, with no preflight. */
const SIMPLE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/** The refusal's message, worded as Apollo words its own for a GET, naming the same headers. */
export const CSRF_REFUSAL_MESSAGE = 'This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). '
  + `Please either specify a 'content-type' header (with a type that is not one of ${SIMPLE_CONTENT_TYPES.join(', ')}) `
  + `or provide a non-empty value for one of the following headers: ${CSRF_PREVENTION_HEADERS.join(', ')}`;

/**
 * Whether a request could come from another site's form or script with no preflight: it has no
 * content type or a simple one, and none of the CSRF-prevention headers (non-empty). As Apollo
 * decides it, so the GET and POST refusals agree.
 */
export function mayBeForged(header: (name: string) => string | undefined): boolean {
  const contentType = header('content-type');
  if (contentType !== undefined) {
    const essence = contentType.split(';')[0]!.trim().toLowerCase();
    if (!SIMPLE_CONTENT_TYPES.includes(essence)) return false;
  }
  return !CSRF_PREVENTION_HEADERS.some((name) => (header(name) ?? '') !== '');
}
