// Renders a report.html in headless Chromium for the docs: a viewport-sized PNG of the top of
// the page (headline numbers, learning curves, confusion matrix).
// Usage: node --import tsx bench/report-screenshot.ts --report models/x/report.html [--out docs/report.png] [--width 1200] [--height 1000]
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from '../fixtures/web-harness.ts';

const { values } = parseArgs({
  options: {
    report: { type: 'string' },
    out: { type: 'string', default: 'docs/report.png' },
    width: { type: 'string', default: '1200' },
    height: { type: 'string', default: '1000' },
  },
});
if (!values.report) throw new Error('usage: node --import tsx bench/report-screenshot.ts --report DIR/report.html [--out docs/report.png]');
const out = path.resolve(values.out as string);

const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: Number(values.width), height: Number(values.height) }, colorScheme: 'light' });
  // The report is one file: anything but the file itself and its data: URIs would be a bug.
  await page.route('**/*', (route) => (/^(file|data):/.test(route.request().url()) ? route.continue() : route.abort()));
  await page.goto(`file://${path.resolve(values.report)}`);
  await page.waitForFunction(() => [...document.images].every((img) => img.complete));
  await mkdir(path.dirname(out), { recursive: true });
  await page.screenshot({ path: out, type: 'png' });
  console.log(`wrote ${out} (${((await stat(out)).size / 1024).toFixed(0)} KB)`);
} finally {
  await browser.close();
}
