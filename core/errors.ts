/**
 * The one error type of the hub (STYLE.md principle 7). Code decides the HTTP status in
 * exactly one place (api/middleware/error-handler.ts); `details` is safe to show clients.
 */
export const errorStatus = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  SOURCE_NOT_FOUND: 404,
  CONFLICT: 409,
  CONTRACT_ALREADY_RENEWED: 409,
  CONTRACT_NOT_RENEWABLE: 409,
  DEFAULT_CONTRACT_CHOICE_REQUIRED: 409,
  LINK_OVERLAP: 409,
  DUPLICATE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  RULES_INVALID: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  NOT_READY: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class HubError extends Error {
  override name = 'HubError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

export const isHubError = (e: unknown): e is HubError => e instanceof HubError;

/** A 400 that names the offending field (R-ALR-5). */
export const validationError = (field: string, message: string, details?: unknown): HubError =>
  new HubError('VALIDATION_FAILED', `${field}: ${message}`, details ?? [{ field, message }]);

export const notFound = (what: string, id?: string | number): HubError =>
  new HubError('NOT_FOUND', id === undefined ? `${what} not found` : `${what} ${id} not found`);
