// Every failure a client can see is one of these: a status, a stable machine-readable code and a
// sentence. Routes throw them; the error handler turns them (and Fastify's own errors) into
// {"error":{"code","message"}}.

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Retry-After for 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** How long a client refused for a full queue should wait; the queue drains within a second or so. */
export const RETRY_AFTER_SECONDS = 1;

/** 429; Retry-After is the expected wait when known (whole seconds, at least 1). */
export const queueFull = (expectedWaitMs?: number) =>
  new HttpError(429, 'queue-full', 'the server is at capacity; retry shortly', {
    'retry-after': String(Math.max(RETRY_AFTER_SECONDS, Math.ceil((expectedWaitMs ?? 0) / 1000))),
  });
export const notReady = () => new HttpError(503, 'not-ready', 'the model is still loading; retry shortly', { 'retry-after': String(RETRY_AFTER_SECONDS) });
export const shuttingDown = () => new HttpError(503, 'shutting-down', 'the server is shutting down', { connection: 'close' });

/** ImageError codes (see data/image.ts) and the status each earns for an upload. */
const IMAGE_STATUS: Record<string, number> = {
  empty: 400,
  undecodable: 400,
  // The body did not decode as any raster format, whatever Content-Type claimed: the request is
  // malformed (400); 415 is kept for a Content-Type the server does not take at all.
  unsupported: 400,
  'too-large': 422,
  'body-too-large': 413,
};

export function imageFailure(code: string, message: string): HttpError {
  return new HttpError(IMAGE_STATUS[code] ?? 400, code, message);
}

/** Fastify and @fastify/multipart error codes, mapped onto this server's statuses and codes. */
const FRAMEWORK_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'body-too-large'],
  FST_REQ_FILE_TOO_LARGE: [413, 'body-too-large'],
  FST_FILES_LIMIT: [413, 'too-many-files'],
  FST_PARTS_LIMIT: [413, 'too-many-parts'],
  FST_FIELDS_LIMIT: [413, 'too-many-parts'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported-media-type'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'unsupported-media-type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad-request'],
};

/** Any thrown value as an HttpError; anything unforeseen becomes 500 'internal'. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const e = error as { code?: string; statusCode?: number; message?: string };
  const known = e.code ? FRAMEWORK_ERRORS[e.code] : undefined;
  if (known) return new HttpError(known[0], known[1], e.message ?? known[1]);
  // Other client errors from Fastify (malformed multipart, bad URL...) keep their status.
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new HttpError(e.statusCode, 'bad-request', e.message ?? 'bad request');
  }
  return new HttpError(500, 'internal', 'internal server error');
}
