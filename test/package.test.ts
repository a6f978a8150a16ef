import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { firstFiles, SHARED_MISSING, SHOES } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

// What a user of the published package gets: `npm pack` (of the built dist/, which `npm test`
// builds first), installed into an empty project with no tsx, no TypeScript and no checkout.

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

describe('the packed package', () => {
  let app: string;

  before(async () => {
    app = await mkdtemp(path.join(os.tmpdir(), 'footwear-package-'));
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', app], { cwd: ROOT });
    const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
    await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // Dependencies come from npm's cache, which `npm ci` filled; install scripts only fetch
    // optional extras (onnxruntime-node's CUDA build) and are not needed to run on the CPU.
    await run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', path.join(app, filename)], { cwd: app, timeout: 300_000 });
  });

  after(async () => {
    if (app) await rm(app, { recursive: true, force: true });
  });

  test('ships built JavaScript and declarations, not TypeScript source', async () => {
    const installed = path.join(app, 'node_modules', 'footwear');
    const files = await readdir(installed, { recursive: true });
    assert.ok(files.includes(path.join('dist', 'index.js')) && files.includes(path.join('dist', 'index.d.ts')));
    assert.ok(files.includes(path.join('dist', 'browser', 'index.js')) && files.includes(path.join('dist', 'browser', 'index.d.ts')));
    assert.ok(!files.some((f) => f.startsWith('src') || f.startsWith('test') || f.startsWith('bench')), 'no sources, tests or benches');
    assert.ok(!files.some((f) => f.startsWith('node_modules')));
    assert.equal(await readdir(path.join(app, 'node_modules')).then((names) => names.includes('tsx')), false, 'tsx is not installed with it');
  });

  test('`footwear --version` runs the built CLI', async () => {
    const { stdout, stderr } = await run(path.join(app, 'node_modules', '.bin', 'footwear'), ['--version'], { cwd: app });
    assert.equal(stdout.trim(), version);
    assert.equal(stderr, '');
  });

  test("import('footwear') works in plain Node and classifies a real photo", { skip: SHARED_MISSING }, async () => {
    const model = await trainedModel();
    const [photo] = await firstFiles(path.join(SHOES, 'test'), 1);
    const script = `
      const footwear = await import('footwear');
      const classifier = await footwear.loadModel(${JSON.stringify(model)}, { ep: 'cpu' });
      const bytes = (await import('node:fs')).readFileSync(${JSON.stringify(photo.file)});
      const result = await classifier.classifyImage(bytes, 'photo.jpg');
      await classifier.release();
      console.log(JSON.stringify({ exports: Object.keys(footwear).sort(), result }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app });
    const { exports, result } = JSON.parse(stdout) as { exports: string[]; result: { label: string; score: number } };
    for (const name of ['loadModel', 'train', 'convertModelDir', 'evaluate', 'startServer', 'buildWebSite', 'UserError']) assert.ok(exports.includes(name), name);
    assert.equal(result.label, photo.label);
    assert.ok(result.score > 0.5);
  });

  test("'footwear/web' builds in a plain Vite app", async () => {
    await writeFile(path.join(app, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
    await writeFile(path.join(app, 'main.js'), "import { createClassifier } from 'footwear/web';\nglobalThis.classify = (url) => createClassifier(url);\n");
    const build = "const { build } = await import('vite'); await build({ root: '.', logLevel: 'error', build: { outDir: 'site' } });";
    await run(process.execPath, ['--input-type=module', '-e', build], { cwd: app, timeout: 120_000 });
    const assets = await readdir(path.join(app, 'site', 'assets'));
    const js = assets.filter((f) => f.endsWith('.js'));
    assert.ok(js.length > 0, `a JavaScript bundle: ${assets.join(', ')}`);
    const code = (await Promise.all(js.map((f) => readFile(path.join(app, 'site', 'assets', f), 'utf8')))).join('\n');
    assert.match(code, /footwear\.spec/, 'the bundle holds the model loader (it reads the footwear.spec metadata)');
    assert.match(code, /ort-wasm-simd-threaded/, 'and onnxruntime-web');
  });
});
