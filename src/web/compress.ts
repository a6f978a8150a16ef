import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

// Precompressed copies of a built site's files (FILE.br, FILE.gz beside FILE), written once at
// build time so a server sends them as they are (footwear serve --web; nginx gzip_static/brotli_static).

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** The encodings a site may hold, best first: the file suffix and the Content-Encoding token. */
export const ENCODINGS = [
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
] as const;
export type Encoding = (typeof ENCODINGS)[number]['encoding'];

const COMPRESSIBLE = new Set(['.wasm', '.mjs', '.js', '.css', '.html', '.onnx', '.json', '.svg', '.map', '.txt']);
/** Smaller files gain less than a request's headers weigh. */
const MIN_BYTES = 1024;
/** A copy is kept only when it saves at least this share of the bytes. */
const MIN_SAVING = 0.1;
// Brotli 9 with a 16 MB window: ORT's 14 MB wasm to 2.67 MB in about 3 s on one core; quality 11
// makes 2.30 MB but takes over a minute, too slow for a build step.
const BROTLI_OPTIONS = { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_LGWIN]: 24 } };

export function compressible(file: string): boolean {
  return COMPRESSIBLE.has(path.extname(file).toLowerCase());
}

/**
 * Writes FILE.br and FILE.gz beside each compressible file of `files` (paths relative to `root`)
 * that is worth it; returns the paths written, relative to `root`.
 */
export async function precompress(root: string, files: readonly string[]): Promise<string[]> {
  const written: string[] = [];
  await Promise.all(
    files.filter(compressible).map(async (file) => {
      const bytes = await readFile(path.join(root, file));
      if (bytes.length < MIN_BYTES) return;
      const [br, gz] = await Promise.all([brotli(bytes, { ...BROTLI_OPTIONS, params: { ...BROTLI_OPTIONS.params, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }), gzipAsync(bytes, { level: 9 })]);
      for (const [suffix, packed] of [['.br', br], ['.gz', gz]] as const) {
        if (packed.length > bytes.length * (1 - MIN_SAVING)) continue;
        await writeFile(path.join(root, file + suffix), packed);
        written.push(file + suffix);
      }
    }),
  );
  return written.sort();
}

/** The encodings an Accept-Encoding header allows (q > 0), in ENCODINGS order. */
export function acceptedEncodings(header: string | undefined): Encoding[] {
  if (!header) return [];
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const weight = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = weight === undefined ? 1 : Number(weight.slice(2));
    q.set(name.trim(), Number.isFinite(value) ? value : 0);
  }
  const star = q.get('*');
  return ENCODINGS.map((e) => e.encoding).filter((name) => (q.get(name) ?? star ?? 0) > 0);
}

/** True for a precompressed copy (FILE.br, FILE.gz) of a site file. */
export function isPrecompressed(file: string): boolean {
  return ENCODINGS.some((e) => file.endsWith(e.suffix));
}
