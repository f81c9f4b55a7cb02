/**
 * Errors of the gateway's own making, thrown where they happen. They carry no public code:
 * `format.ts` maps each class to one, in one table.
 */

/** An argument, cursor, id, header or time range that cannot be served. The message says which and why. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
}

/** The backup a cursor points at is gone: the client should restart paging from the first page. */
export class CursorStaleError extends Error {
  override name = 'CursorStaleError';
  constructor() {
    super('The backup this cursor points at no longer exists; restart paging from the first page.');
  }
}

/** No token and no service credentials, for an upstream that needs them. No call is made. */
export class MissingCredentialsError extends Error {
  override name = 'MissingCredentialsError';
  constructor() {
    super('No credentials: send X-Auth-Token (or Authorization: Bearer) or configure HUAWEICLOUD_SDK_AK/SK.');
  }
}

/**
 * The request brings credentials that are not a token (an empty or spaced `X-Auth-Token`, an
 * `Authorization` that is not `Bearer <token>`, two different tokens). No call is made: it is
 * never answered as the service identity instead. The message never quotes the header.
 */
export class MalformedCredentialsError extends Error {
  override name = 'MalformedCredentialsError';
}

/** The caller identity's upstream budget (UPSTREAM_BUDGET_PER_MINUTE) is spent: no call was sent. */
export class BudgetExhaustedError extends Error {
  override name = 'BudgetExhaustedError';
  constructor(readonly retryAfterSeconds: number) {
    super('The upstream call budget of this caller is spent for the moment; retry later.');
  }
}

/** `Subscription.backupChanges` on a gateway composed without a LiveSource (server.ts): nothing to watch with. */
export class LiveUnavailableError extends Error {
  override name = 'LiveUnavailableError';
  constructor() {
    super('Live changes are not available on this gateway: backupChanges has no source of changes.');
  }
}
