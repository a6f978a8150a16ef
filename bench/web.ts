// `npm run bench:web -- --model DIR [--model DIR2 ...] [--images 24] [--rounds 4] [--write]`:
// milliseconds per photo in headless Chromium for the built demo page, for every model file of
// every folder given (model.onnx, and model.int8.onnx when the folder has one) on wasm with one
// thread, wasm multi-threaded and WebGPU. This machine has no GPU: the WebGPU rows run on
// Chromium's SwiftShader adapter, a CPU emulation, so they show the path works and what it costs
// here, nothing about a GPU. Every page stays open and the rounds take turns through them on the
// same photos, so the shared machine's load falls on all of them alike. Times come from the page
// itself (decode + resize + inference per photo, and inference alone) after a warm-up.
// --write rewrites "## Browser inference" in BENCHMARKS.md.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import yargs from 'yargs';
import { isUserError, UserError } from '../src/core/index.ts';
import { packageVersion, readModelSpec } from '../src/node/index.ts';
import { buildWebSite, type BuiltSite } from '../src/web/build.ts';
import { serveStatic, type StaticServer } from '../fixtures/static-server.ts';
import { firstFiles, SHOES } from '../fixtures/shared-data.ts';
import { classifyInPage, launchChromium, openDemo } from '../fixtures/web-harness.ts';
import { machine, writeSection } from './sections.ts';
import { load1m } from './stats.ts';
import { goalLines, HEADING, table, type Config, type Measured } from './web/report.ts';

const GOAL_MS = 40;
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Open extends Measured {
  page: Page;
}

async function main(): Promise<void> {
  const args = await yargs(process.argv.slice(2))
    .scriptName('bench:web')
    .option('model', { type: 'string', array: true, demandOption: true, requiresArg: true, describe: 'model folder (repeat for several; the first is the baseline of the ratios)' })
    .option('images', { type: 'number', requiresArg: true, default: 24, describe: 'timed photos per page, split evenly over the rounds' })
    .option('rounds', { type: 'number', requiresArg: true, default: 4, describe: 'rounds; each runs every page once on the same photos' })
    .option('warmup', { type: 'number', requiresArg: true, default: 3, describe: 'untimed photos per page before the rounds' })
    .option('threads', { type: 'number', requiresArg: true, describe: 'wasm threads of the multi-threaded rows (default: the page decides)' })
    .option('webgpu', { type: 'boolean', default: true, describe: 'include the WebGPU (SwiftShader) rows' })
    .option('write', { type: 'boolean', default: false, describe: `rewrite the "${HEADING}" section of BENCHMARKS.md` })
    .strict()
    .help()
    .parseAsync();
  for (const name of ['images', 'rounds'] as const) {
    if (!Number.isInteger(args[name]) || args[name] < 1) throw new UserError(`--${name} should be a whole number of at least 1, got ${args[name]}`);
  }
  if (!Number.isInteger(args.warmup) || args.warmup < 0) throw new UserError(`--warmup should be a whole number, got ${args.warmup}`);
  if (args.threads !== undefined && (!Number.isInteger(args.threads) || args.threads < 1)) throw new UserError(`--threads should be a positive whole number, got ${args.threads}`);
  const perRound = Math.ceil(args.images / args.rounds);
  const inputs = new Map<string, string>();
  for (const folder of args.model) {
    const { spec } = await readModelSpec(folder);
    inputs.set(folder, `${spec.preprocess.width}x${spec.preprocess.height}`);
  }

  // Classes interleaved, so the warm-up and every round mix boots, sandals and shoes.
  const need = args.warmup + perRound * args.rounds;
  const perClass = Math.ceil(need / 3);
  const all = await firstFiles(path.join(SHOES, 'test'), perClass);
  const classes = [...new Set(all.map((f) => f.label))];
  const byClass = classes.map((label) => all.filter((f) => f.label === label));
  const mixed = Array.from({ length: need }, (_, i) => byClass[i % classes.length][Math.floor(i / classes.length)]).filter(Boolean);
  const warmup = mixed.slice(0, args.warmup).map((f) => f.file);
  const rounds = Array.from({ length: args.rounds }, (_, r) => mixed.slice(args.warmup + r * perRound, args.warmup + (r + 1) * perRound));

  const work = await mkdtemp(path.join(os.tmpdir(), 'footwear-web-bench-'));
  const servers: StaticServer[] = [];
  const browsers: Browser[] = [];
  const loadStart = load1m();
  const roundLoads: number[] = [];
  try {
    // wasm pages get the browser the web test uses (no GPU process); WebGPU pages one that offers SwiftShader.
    const wasmBrowser = await launchChromium();
    browsers.push(wasmBrowser);
    const gpuBrowser = args.webgpu ? await launchChromium({ webgpu: true }) : undefined;
    if (gpuBrowser) browsers.push(gpuBrowser);
    const opened: Open[] = [];
    const failed: { config: Config; error: string }[] = [];
    for (const [i, folder] of args.model.entries()) {
      const site: BuiltSite = await buildWebSite({ model: folder, out: path.join(work, `site-${i}`) });
      const server = await serveStatic(site.out);
      servers.push(server);
      // model.onnx first: it is each folder's reference row.
      const files = site.files.filter((f) => /^model(\.[a-z0-9]+)?\.onnx$/.test(f)).sort((a, b) => Number(b === 'model.onnx') - Number(a === 'model.onnx'));
      for (const file of files) {
        const backends: Config['backend'][] = ['wasm-1', 'wasm-n', ...(gpuBrowser ? (['webgpu'] as const) : [])];
        for (const backend of backends) {
          const config: Config = { folder, input: inputs.get(folder)!, file, backend };
          const query = backend === 'webgpu' ? 'backend=webgpu' : `backend=wasm${backend === 'wasm-1' ? '&threads=1' : args.threads ? `&threads=${args.threads}` : ''}`;
          const page = await (backend === 'webgpu' ? gpuBrowser! : wasmBrowser).newPage();
          const start = performance.now();
          try {
            const info = await openDemo(page, `${server.url}?${query}&model=${file}`, 300_000);
            const openSeconds = (performance.now() - start) / 1000;
            if (warmup.length) await classifyInPage(page, warmup, 60_000 * warmup.length);
            opened.push({ config, page, shown: info.backend, threads: info.threads, openSeconds, rounds: [], right: 0 });
            log(`${folder} ${file} ${backend}: ${info.backend}, ready in ${openSeconds.toFixed(1)} s`);
          } catch (error) {
            // A page that cannot run this model here is a result too (say, int8 kernels WebGPU lacks).
            failed.push({ config, error: (error as Error).message.split('\n')[0] });
            log(`${folder} ${file} ${backend}: failed: ${failed.at(-1)!.error}`);
            await page.close();
          }
        }
      }
    }
    if (opened.length === 0) throw new Error('no page could load its model');

    for (const [r, photos] of rounds.entries()) {
      roundLoads.push(load1m());
      // Each round starts at a different page, so none always runs first or last.
      const order = opened.map((_, i) => opened[(i + r) % opened.length]);
      for (const m of order) {
        const results = await classifyInPage(m.page, photos.map((p) => p.file), 60_000 * photos.length);
        const bad = results.find((res) => res.state !== 'done');
        if (bad) throw new Error(`${m.config.folder} ${m.config.file} ${m.config.backend}: ${bad.file}: ${bad.error}`);
        m.rounds.push({ ms: results.map((res) => res.ms), inferenceMs: results.map((res) => res.inferenceMs) });
        m.right += results.filter((res, i) => res.label === photos[i].label).length;
      }
      log(`round ${r + 1}/${rounds.length} done (load ${roundLoads.at(-1)})`);
    }

    const versions = `Chromium ${wasmBrowser.version()} (Debian's /usr/bin/chromium, headless), onnxruntime-web ${packageVersion('onnxruntime-web') ?? '?'}`;
    const body = [
      `${versions}. wasm rows: ORT's SIMD wasm on one thread, and on the threads a cross-origin isolated page gets. WebGPU rows: ORT's WebGPU execution provider on Chromium's SwiftShader adapter (Vulkan emulated on the CPU; Chromium launched with --enable-unsafe-webgpu, see fixtures/web-harness.ts). There is no GPU here, so the WebGPU rows show that path works end to end and what the emulation costs; they say nothing about WebGPU on a real GPU.`,
      '',
      `- machine: ${machine()}`,
      `- command: node --import tsx bench/web.ts ${process.argv.slice(2).join(' ')}`,
      `- date: ${new Date().toISOString()}`,
      `- load: 1-min load average ${loadStart} at the start, ${roundLoads.join(', ')} at each round's start, ${load1m()} at the end (${os.cpus().length} cores; the machine is shared)`,
      `- per photo: ${rounds.length} rounds × ${perRound} real catalogue photos (shoe-sandal-boot test split, classes mixed, the same photos for every page) after ${warmup.length} warm-up photos per page; all pages open at once and each round runs them in turn, starting one page later each round; ms = decode + resize + inference as the page times it, inference = ONNX Runtime alone; "right" counts labels equal to the photo's folder`,
      '',
      ...table(opened),
      ...(failed.length ? ['', ...failed.map((f) => `- ${f.config.folder} ${f.config.file} on ${f.config.backend}: the page did not load the model: ${f.error}`)] : []),
      '',
      `Against the goal of ${GOAL_MS} ms per photo in the browser on wasm:`,
      '',
      ...goalLines(opened, GOAL_MS),
    ].join('\n');
    process.stdout.write(`${body}\n`);
    if (args.write) await writeSection(HEADING, body);
  } finally {
    for (const browser of browsers) await browser.close();
    for (const server of servers) await server.close();
    await rm(work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  log(`bench:web: ${isUserError(error) ? (error as Error).message : ((error as Error).stack ?? String(error))}`);
  process.exitCode = isUserError(error) ? 1 : 70;
}
