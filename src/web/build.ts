import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError, UserError, specFromModel, type ModelSpec } from '../core/index.ts';
import { checkDerivedModel, readModelFile } from '../node/index.ts';
import { ENCODINGS, precompress } from './compress.ts';

// Builds the demo page into a self-contained static site: the page, the model and ONNX Runtime's
// wasm files, all served from one folder so the site works offline, on any static host, and
// under a strict COEP (which would block a CDN without CORP headers).

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
/** The page imports 'footwear/web': this package's browser entry, as source or as built JavaScript. */
const BROWSER_ENTRY = fileURLToPath(new URL(`../browser/index.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));
/** Written last into every site; its presence is what allows a rebuild to replace a folder. */
export const SITE_MANIFEST = 'footwear-web.json';
/** Model files copied beside the page when the model folder has them; the page picks by ?model=. */
const MODEL_FILES = ['model.onnx', 'model.int8.onnx'];

/** The output folder cannot be (re)placed; the message says why. */
export class WebBuildError extends UserError {
  override name = 'WebBuildError';
}

export interface BuildWebSiteOptions {
  /** Model directory holding model.onnx, or the .onnx file itself. */
  model: string;
  /** Folder to write; an earlier footwear site there is replaced only once the new one is complete. */
  out: string;
}

export interface BuiltSite {
  out: string;
  /** Paths relative to `out`, sorted; precompressed copies (FILE.br, FILE.gz) included. */
  files: string[];
  spec: ModelSpec;
  sizes: SiteSizes;
}

export interface SiteSizes {
  /** Bytes of every file in the site, precompressed copies included. */
  total: number;
  /**
   * Bytes a browser fetches to open the page and classify with the default model on each ORT
   * path ('wasm', 'webgpu'), each file as its smallest copy (a browser accepts br and gzip).
   */
  download: Record<string, number>;
}

async function modelFiles(model: string): Promise<{ source: string; name: string }[]> {
  let info;
  try {
    info = await stat(model);
  } catch {
    throw new ModelError(model, 'no such model file or folder');
  }
  if (!info.isDirectory()) return [{ source: model, name: 'model.onnx' }];
  const found = MODEL_FILES.filter((name) => existsSync(path.join(model, name))).map((name) => ({ source: path.join(model, name), name }));
  if (!found.some((f) => f.name === 'model.onnx')) throw new ModelError(path.join(model, 'model.onnx'), 'model folder has no model.onnx');
  return found;
}

/** Reads the spec exactly as the page will (the same core reader), so a model the page cannot use fails the build. */
async function checkModel(file: string): Promise<ModelSpec> {
  const spec = specFromModel(await readModelFile(file), file);
  // A site must not ship an int8 model left over from an earlier training beside the new one.
  await checkDerivedModel(file, spec);
  return spec;
}

/** Refuses to replace anything but an earlier footwear site or an empty folder. */
async function checkOut(out: string): Promise<void> {
  let info;
  try {
    info = await stat(out);
  } catch {
    return;
  }
  if (!info.isDirectory()) throw new WebBuildError(`${out} exists and is not a folder`);
  if (existsSync(path.join(out, SITE_MANIFEST)) || (await readdir(out)).length === 0) return;
  throw new WebBuildError(`${out} is a folder that footwear did not build (no ${SITE_MANIFEST}); choose an empty or new folder`);
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

async function bundlePage(outDir: string): Promise<void> {
  const { build, defaultClientConditions } = await import('vite');
  await build({
    configFile: false,
    root: PAGE_DIR,
    base: './', // relative URLs, so the site works from any sub-path of a host
    publicDir: false,
    logLevel: 'warn',
    resolve: {
      alias: { 'footwear/web': BROWSER_ENTRY },
      // ORT's "extern wasm" builds load their .mjs/.wasm from env.wasm.wasmPaths at run time instead
      // of inlining the loader into our bundle; the files then come from the site's own ort/ folder.
      conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
    },
    build: { outDir, emptyOutDir: true, target: 'es2022', reportCompressedSize: false, chunkSizeWarningLimit: 1024 },
  });
}

/** onnxruntime-web's dist folder; its package.json is not exported, but its wasm files are. */
function ortDist(): string {
  return path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

/**
 * Copies the ORT loaders the bundle refers to, found by name in the built JavaScript so an ORT
 * upgrade that renames them cannot silently ship a page that fails to start, and so only the
 * builds the page can load are shipped (ORT's dist has four, 86 MB of wasm); each loader's .wasm
 * goes beside it. Returns, for each bundle chunk naming loaders, the site files it loads.
 */
async function copyOrtFiles(site: string): Promise<Map<string, string[]>> {
  const dist = ortDist();
  const byChunk = new Map<string, string[]>();
  for (const file of await listFiles(site)) {
    if (!file.endsWith('.js')) continue;
    const names = [...new Set([...(await readFile(path.join(site, file), 'utf8')).matchAll(/ort-wasm-simd-threaded[\w.]*?\.mjs/g)].map((m) => m[0]))];
    if (names.length > 0) byChunk.set(file, names.flatMap((loader) => [loader, loader.replace(/\.mjs$/, '.wasm')].map((name) => `ort/${name}`)));
  }
  if (byChunk.size === 0) throw new WebBuildError('the page bundle names no ONNX Runtime wasm loader; the onnxruntime-web build layout changed');
  await mkdir(path.join(site, 'ort'));
  for (const file of new Set([...byChunk.values()].flat())) {
    const name = path.posix.basename(file);
    if (!existsSync(path.join(dist, name))) throw new WebBuildError(`onnxruntime-web has no ${name} in ${dist}`);
    await copyFile(path.join(dist, name), path.join(site, file));
  }
  return byChunk;
}

/** What a browser fetches on each ORT path: the page, the default model, the path's chunk and ORT files. */
async function siteSizes(site: string, files: readonly string[], ortByChunk: Map<string, string[]>): Promise<SiteSizes> {
  const sizes = new Map<string, number>();
  for (const file of files) sizes.set(file, (await stat(path.join(site, file))).size);
  const smallest = (file: string) => Math.min(sizes.get(file) ?? 0, ...ENCODINGS.map((e) => sizes.get(file + e.suffix) ?? Infinity));
  const ortOnly = new Set([...ortByChunk.keys(), ...[...ortByChunk.values()].flat()]);
  const page = files.filter((f) => !ortOnly.has(f) && !f.startsWith('ort/') && !ENCODINGS.some((e) => f.endsWith(e.suffix)) && f !== SITE_MANIFEST && (f === 'model.onnx' || !f.endsWith('.onnx')));
  const pageBytes = page.reduce((sum, f) => sum + smallest(f), 0);
  const download: Record<string, number> = {};
  for (const [chunk, ort] of ortByChunk) {
    // Vite names the chunk after ORT's entry: assets/ort.webgpu.min-HASH.js, assets/ort.wasm.min-HASH.js.
    const name = /ort\.(\w+)/.exec(path.posix.basename(chunk))?.[1] ?? chunk;
    download[name] = pageBytes + smallest(chunk) + ort.reduce((sum, f) => sum + smallest(f), 0);
  }
  return { total: [...sizes.values()].reduce((a, b) => a + b, 0), download };
}

async function ortVersion(): Promise<string> {
  const file = path.join(ortDist(), '..', 'package.json');
  return (JSON.parse(await readFile(file, 'utf8')) as { version: string }).version;
}

/**
 * Writes a static site classifying photos in the browser with `model`. The site is built in a
 * sibling temp folder and renamed into place, so a failed build leaves an earlier site intact.
 */
export async function buildWebSite(options: BuildWebSiteOptions): Promise<BuiltSite> {
  const out = path.resolve(options.out);
  const models = await modelFiles(options.model);
  const spec = await checkModel(models[0].source);
  for (const extra of models.slice(1)) await checkModel(extra.source);
  await checkOut(out);
  await mkdir(path.dirname(out), { recursive: true });
  // A sibling of `out`, so the final rename stays on one file system.
  const staging = await mkdtemp(path.join(path.dirname(out), `.${path.basename(out)}.building-`));
  try {
    await chmod(staging, 0o755); // mkdtemp makes it private; a web server may run as another user
    await bundlePage(staging);
    const ortByChunk = await copyOrtFiles(staging);
    for (const { source, name } of models) await copyFile(source, path.join(staging, name));
    await precompress(staging, await listFiles(staging));
    const files = await listFiles(staging);
    const manifest = { format: 'footwear-web/1', labels: spec.labels, models: models.map((m) => m.name), onnxruntimeWeb: await ortVersion(), builtAt: new Date().toISOString(), files };
    await writeFile(path.join(staging, SITE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    const old = existsSync(out) ? `${staging}-old` : undefined;
    if (old) await rename(out, old);
    try {
      await rename(staging, out);
    } catch (error) {
      if (old) await rename(old, out);
      throw error;
    }
    if (old) await rm(old, { recursive: true, force: true });
    const all = [...files, SITE_MANIFEST].sort();
    return { out, files: all, spec, sizes: await siteSizes(out, all, ortByChunk) };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
