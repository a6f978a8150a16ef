// Milliseconds per image in headless Chromium for the built demo page: wasm on one thread and
// wasm multi-threaded (the page is served cross-origin isolated in both, so only threads differ),
// for model.onnx and, when the model folder has one, model.int8.onnx. Times come from the page
// itself (decode + resize + inference per photo, and inference alone) after a warm-up.
// Usage: node --import tsx bench/web.ts --model DIR [--images 24] [--threads N]
import { writeSection } from './sections.ts';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildWebSite } from '../src/web/build.ts';
import { serveStatic } from '../fixtures/static-server.ts';
import { quantile } from './stats.ts';
import { firstFiles, SHOES } from '../fixtures/shared-data.ts';
import { classifyInPage, launchChromium, openDemo } from '../fixtures/web-harness.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    images: { type: 'string', default: '24' },
    threads: { type: 'string' },
    warmup: { type: 'string', default: '3' },
  },
});
if (!values.model) throw new Error('usage: node --import tsx bench/web.ts --model DIR [--images 24] [--threads N]');
const count = Number(values.images);
const warmupCount = Number(values.warmup);

const perClass = Math.ceil((count + warmupCount) / 3);
const all = (await firstFiles(path.join(SHOES, 'test'), perClass)).map((f) => f.file);
// Interleave classes so the warm-up and the timed set both mix them.
const mixed = all.map((_, i) => all[(i % 3) * perClass + Math.floor(i / 3)]).filter(Boolean);
const warmup = mixed.slice(0, warmupCount);
const timed = mixed.slice(warmupCount, warmupCount + count);

const loadBefore = os.loadavg()[0];
const work = await mkdtemp(path.join(os.tmpdir(), 'footwear-web-bench-'));
const site = await buildWebSite({ model: values.model, out: path.join(work, 'site') });
const server = await serveStatic(site.out);
const browser = await launchChromium();
const models = ['model.onnx', ...(existsSync(path.join(site.out, 'model.int8.onnx')) ? ['model.int8.onnx'] : [])];
const threadsParam = values.threads ? `&threads=${values.threads}` : '';
const rows: string[] = [];
let hardware = 0;
try {
  for (const model of models) {
    for (const [mode, query] of [
      ['single-thread', '&threads=1'],
      ['multi-thread', threadsParam],
    ]) {
      const page = await browser.newPage();
      const info = await openDemo(page, `${server.url}?backend=wasm&model=${model}${query}`);
      hardware = info.hardwareConcurrency;
      await classifyInPage(page, warmup);
      const results = await classifyInPage(page, timed);
      const failed = results.filter((r) => r.state !== 'done');
      if (failed.length) throw new Error(`${failed.length} photos failed: ${failed[0].file}: ${failed[0].error}`);
      const total = results.map((r) => r.ms).sort((a, b) => a - b);
      const infer = results.map((r) => r.inferenceMs).sort((a, b) => a - b);
      rows.push(
        `| ${model} | ${info.backend} (${mode}) | ${info.threads} | ${results.length} | ${quantile(total, 0.5).toFixed(1)} | ${quantile(total, 0.9).toFixed(1)} | ${quantile(infer, 0.5).toFixed(1)} |`,
      );
      console.error(rows.at(-1));
      await page.close();
    }
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const section = [
    `Headless Chromium ${browser.version()}, onnxruntime-web wasm.`,
    '',
    `- machine: ${cpu}, ${os.availableParallelism()} cores available (navigator.hardwareConcurrency ${hardware}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}; 1-min load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after`,
    `- command: node --import tsx bench/web.ts ${process.argv.slice(2).join(' ')}`,
    `- date: ${new Date().toISOString()}`,
    `- per photo: ${count} real catalogue photos (shoe-sandal-boot test split) after ${warmupCount} warm-up photos; cross-origin isolated page; ms = decode + resize + inference, inference = ONNX Runtime alone`,
    '',
    '| model | backend | threads | images | median ms/image | p90 ms/image | median inference ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
  console.log(section);
  await writeSection('## Browser inference', section);
} finally {
  await browser.close();
  await server.close();
  await rm(work, { recursive: true, force: true });
}
