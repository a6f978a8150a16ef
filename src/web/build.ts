import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError, UserError, specFromModel, type ModelSpec } from '../core/index.ts';
import { checkDerivedModel, readModelFile } from '../node/index.ts';

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
  /** Paths relative to `out`, sorted. */
  files: string[];
  spec: ModelSpec;
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
 * upgrade that renames them cannot silently ship a page that fails to start; each loader's .wasm
 * goes beside it.
 */
async function copyOrtFiles(site: string): Promise<void> {
  const dist = ortDist();
  const loaders = new Set<string>();
  for (const file of await listFiles(site)) {
    if (!file.endsWith('.js')) continue;
    for (const match of (await readFile(path.join(site, file), 'utf8')).matchAll(/ort-wasm-simd-threaded[\w.]*?\.mjs/g)) loaders.add(match[0]);
  }
  if (loaders.size === 0) throw new WebBuildError('the page bundle names no ONNX Runtime wasm loader; the onnxruntime-web build layout changed');
  await mkdir(path.join(site, 'ort'));
  for (const loader of loaders) {
    for (const name of [loader, loader.replace(/\.mjs$/, '.wasm')]) {
      if (!existsSync(path.join(dist, name))) throw new WebBuildError(`onnxruntime-web has no ${name} in ${dist}`);
      await copyFile(path.join(dist, name), path.join(site, 'ort', name));
    }
  }
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
    await copyOrtFiles(staging);
    for (const { source, name } of models) await copyFile(source, path.join(staging, name));
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
    return { out, files: [...files, SITE_MANIFEST].sort(), spec };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
