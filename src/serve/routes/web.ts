import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { acceptedEncodings, contentType, ENCODINGS } from '../../web/index.ts';
import { UserError } from '../../core/index.ts';
import { HttpError } from '../http-error.ts';

// Serves the web demo folder at /. The demo runs ONNX Runtime Web with wasm threads, which need
// SharedArrayBuffer, which browsers grant only to cross-origin-isolated pages: hence COOP/COEP.

const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};


const notFound = (what: string) => new HttpError(404, 'not-found', `no such file or route: ${what}`);

function inside(root: string, target: string): boolean {
  return target === root || target.startsWith(root + path.sep);
}

/** The file a URL path names under `root`, or undefined; never anything outside `root`, links included. */
async function resolveFile(root: string, urlPath: string): Promise<{ file: string; size: number } | undefined> {
  let relative: string;
  try {
    relative = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (relative.includes('\0')) return undefined;
  // Normalising against '/' folds every '..' away before the path meets the file system.
  let file = path.join(root, path.posix.normalize(`/${relative}`));
  try {
    let info = await stat(file);
    if (info.isDirectory()) {
      file = path.join(file, 'index.html');
      info = await stat(file);
    }
    if (!info.isFile() || !inside(root, await realpath(file))) return undefined;
    return { file, size: info.size };
  } catch {
    return undefined;
  }
}

/** A precompressed copy of `file` (FILE.br, FILE.gz from `footwear web build`), held to the same rules as the file. */
async function variantOf(root: string, file: string, suffix: string): Promise<{ file: string; size: number } | undefined> {
  try {
    const info = await stat(file + suffix);
    if (!info.isFile() || !inside(root, await realpath(file + suffix))) return undefined;
    return { file: file + suffix, size: info.size };
  } catch {
    return undefined;
  }
}

export async function webRoutes(app: FastifyInstance, folder: string): Promise<void> {
  const expected = 'a folder written by `footwear web build`';
  const root = await realpath(folder).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`--web should be ${expected}, got ${folder}: ${error.code === 'ENOENT' ? 'no such folder' : `cannot open it (${error.code})`}`);
  });
  if (!(await stat(root)).isDirectory()) throw new UserError(`--web should be ${expected}, got ${folder}: a file, not a folder`);

  const serve = async (urlPath: string, acceptEncoding: string | undefined, reply: FastifyReply) => {
    reply.headers(ISOLATION_HEADERS);
    const found = await resolveFile(root, urlPath);
    if (!found) throw notFound(urlPath);
    // Revalidate every time: the demo is rebuilt in place and a stale .wasm beside fresh JS breaks it.
    reply.headers({ 'content-type': contentType(found.file), 'cache-control': 'no-cache' });
    // The smallest precompressed copy the client accepts (brotli wins on wasm, gzip can on float weights).
    const variants = await Promise.all(ENCODINGS.map(async (e) => ({ encoding: e.encoding, copy: await variantOf(root, found.file, e.suffix) })));
    if (variants.some((v) => v.copy)) reply.header('vary', 'Accept-Encoding');
    const accepted = new Set(acceptedEncodings(acceptEncoding));
    let best: { encoding: string; copy: { file: string; size: number } } | undefined;
    for (const { encoding, copy } of variants) if (copy && accepted.has(encoding) && copy.size < (best?.copy.size ?? found.size)) best = { encoding, copy };
    if (best) reply.header('content-encoding', best.encoding);
    const sent = best?.copy ?? found;
    reply.header('content-length', String(sent.size));
    return reply.send(createReadStream(sent.file));
  };
  // The raw URL, decoded once here: the router's already-decoded parameter would be decoded twice.
  const handler = (request: FastifyRequest, reply: FastifyReply) => serve(request.url.split('?')[0], request.headers['accept-encoding'], reply);
  app.get('/', handler);
  app.get('/*', handler);
}
