// Renders the demo page with real results for the docs: builds the site for a model, classifies
// six catalogue photos in headless Chromium and saves a PNG of the whole page.
// Usage: node --import tsx bench/web-screenshot.ts --model DIR [--out docs/web-demo.png] [--width 900]
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildWebSite } from '../src/web/build.ts';
import { serveStatic } from '../fixtures/static-server.ts';
import { firstFiles, SHOES } from '../fixtures/shared-data.ts';
import { classifyInPage, launchChromium, openDemo } from '../fixtures/web-harness.ts';

const { values } = parseArgs({
  options: { model: { type: 'string' }, out: { type: 'string', default: 'docs/web-demo.png' }, width: { type: 'string', default: '900' } },
});
if (!values.model) throw new Error('usage: node --import tsx bench/web-screenshot.ts --model DIR [--out docs/web-demo.png]');
const out = path.resolve(values.out as string);

const photos = (await firstFiles(path.join(SHOES, 'test'), 2)).map((f) => f.file);
const work = await mkdtemp(path.join(os.tmpdir(), 'footwear-web-shot-'));
const site = await buildWebSite({ model: values.model, out: path.join(work, 'site') });
const server = await serveStatic(site.out);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: Number(values.width), height: 600 }, colorScheme: 'light' });
  await openDemo(page, server.url);
  await classifyInPage(page, photos);
  // Thumbnails load lazily; wait until every one has pixels so the shot shows the photos.
  await page.waitForFunction(() => [...document.images].every((img) => img.complete && img.naturalWidth > 0));
  await mkdir(path.dirname(out), { recursive: true });
  await page.screenshot({ path: out, type: 'png', fullPage: true });
  console.log(`wrote ${out} (${((await stat(out)).size / 1024).toFixed(0)} KB)`);
} finally {
  await browser.close();
  await server.close();
  await rm(work, { recursive: true, force: true });
}
