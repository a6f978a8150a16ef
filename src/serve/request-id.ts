import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// A request id ties a client's report, the access log and the server's error lines together. A
// caller's X-Request-Id (a gateway's, say) is kept when it is a plain token; anything else (too
// long, spaces, quotes, control characters: things that would break a log line or a header) is
// replaced by a fresh UUID.

export const REQUEST_ID_HEADER = 'x-request-id';
const SANE = /^[A-Za-z0-9._~:/+=@-]{1,128}$/;

export function requestId(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SANE.test(given) ? given : randomUUID();
}
