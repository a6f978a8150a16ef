import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ServeConfigError } from './config-error.ts';
import { HttpError } from './http-error.ts';

// Bearer-token auth for a server other teams can reach. Tokens come from a file (a Kubernetes
// Secret mounted as one, say), one per line. A presented token is compared with every accepted
// one through SHA-256 digests of equal length and crypto.timingSafeEqual, never stopping at the
// first match, so response time tells nothing about how much of a token was right. Probes and
// metrics stay open by default: kubelets and Prometheus do not carry the token.

export const DEFAULT_OPEN_PATHS = ['/healthz', '/readyz', '/v2/health/*', '/metrics'] as const;
export const AUTH_REALM = 'footwear';

/** RFC 6750's b64token: what an Authorization: Bearer header can carry. */
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** The digests of the tokens in `file`: one per line, blank lines and # comments skipped. */
export async function loadTokenDigests(file: string, flag = '--auth-token-file'): Promise<Buffer[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ServeConfigError(`${flag} ${file}: cannot read it (${code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message)}); expected a file with one bearer token per line`);
  }
  const digests: Buffer[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    // The token itself is a secret: the message names its line, never its text.
    if (!TOKEN.test(line)) throw new ServeConfigError(`${flag} ${file}: line ${i + 1} is not a bearer token (expected letters, digits and -._~+/, then optional =)`);
    digests.push(digest(line));
  }
  if (digests.length === 0) throw new ServeConfigError(`${flag} ${file}: holds no token; expected one bearer token per line`);
  return digests;
}

/** Whether `path` (no query) is one of `open`: exact, or below a prefix written with a trailing *. */
export function isOpenPath(path: string, open: readonly string[]): boolean {
  // Dot segments (plain or %-encoded) never count as open, so no path can climb out of a prefix.
  if (/(^|\/)(\.|%2e){1,2}(\/|$)/i.test(path)) return false;
  return open.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p));
}

const challenge = (error?: string) => ({ 'www-authenticate': `Bearer realm="${AUTH_REALM}"${error ? `, error="${error}"` : ''}` });

export function authHook(app: FastifyInstance, digests: readonly Buffer[], openPaths: readonly string[]): void {
  const accepts = (token: string): boolean => {
    const presented = digest(token);
    let ok = false;
    for (const known of digests) ok = timingSafeEqual(known, presented) || ok;
    return ok;
  };
  app.addHook('onRequest', async (request: FastifyRequest) => {
    // A path no route serves needs the token too: an unauthenticated caller learns nothing from a 404.
    if (request.routeOptions.url !== undefined && isOpenPath(request.url.split('?')[0], openPaths)) return;
    const header = request.headers.authorization;
    const token = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header)?.[1] : undefined;
    if (token === undefined) throw new HttpError(401, 'unauthorized', 'this server needs a bearer token: send Authorization: Bearer TOKEN', challenge());
    if (!accepts(token)) throw new HttpError(401, 'unauthorized', 'the bearer token is not one this server accepts', challenge('invalid_token'));
  });
}
