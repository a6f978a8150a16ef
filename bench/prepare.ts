// Preprocessing alone, CPU per photo, with sharp decoding every file against the JPEG short way
// (src/node/jpeg-fast.ts), and the stages on their own. Run:
//   npm run bench:prepare -- [--data DIR] [--rounds N] [--images N]
// CPU time of the whole process (process.cpuUsage: libuv's pool and libvips' threads included),
// not wall time, which a shared machine's other work moves far more. Each round runs every row
// once, in the same order, so a busy spell slows all of them; the median of the rounds is printed.
import os from 'node:os';
import { readFileSync, statSync } from 'node:fs';
import yargs from 'yargs';
import { DEFAULT_MAX_PIXELS, defaultPreprocess, resizeToInput } from '../src/core/index.ts';
import { walkImages } from '../src/data/index.ts';
import { decodeImage, prepareFile } from '../src/node/index.ts';
import { decodeJpegFast, jpegFastPathRuns, setJpegFastPath } from '../src/node/jpeg-fast.ts';

const args = await yargs(process.argv.slice(2))
  .option('data', { type: 'string', default: '../shared/data/shoe-sandal-boot/test', describe: 'folder of photos' })
  .option('rounds', { type: 'number', default: 7 })
  .option('images', { type: 'number', describe: 'photos per row (default: all in --data)' })
  .strict()
  .parseAsync();

const files = (await walkImages(args.data, () => {})).slice(0, args.images);
if (files.length === 0) throw new Error(`no photos in ${args.data}`);
const spec = defaultPreprocess();
const slot = { out: new Float32Array(spec.width * spec.height * 3), offset: 0 };
const bytes = files.map((file) => readFileSync(file));
const decoded = await Promise.all(bytes.map((b, i) => decodeImage(b, files[i], spec.background)));

/** Runs `work` with the short way on or off, then leaves it on. */
async function withFast(on: boolean, work: () => Promise<void>): Promise<void> {
  setJpegFastPath(on);
  try {
    await work();
  } finally {
    setJpegFastPath(true);
  }
}

const prepareAll = (read: 'sync' | 'async') => async () => {
  for (const file of files) {
    const prepared = await prepareFile(file, spec, undefined, slot, read);
    if (!('input' in prepared)) throw new Error(`${file}: ${prepared.error.message}`);
  }
};

const rows: [string, () => Promise<void>][] = [
  ['read: statSync + readFileSync', async () => {
    for (const file of files) if (statSync(file).isFile()) readFileSync(file);
  }],
  ['decode: sharp', () => withFast(false, async () => {
    for (let i = 0; i < files.length; i++) await decodeImage(bytes[i], files[i], spec.background);
  })],
  ['decode: JPEG short way (wasm)', async () => {
    for (const b of bytes) if (!decodeJpegFast(b, DEFAULT_MAX_PIXELS)) throw new Error('the short way declined a photo');
  }],
  ['resize (wasm SIMD)', async () => decoded.forEach((d) => resizeToInput(d.data, d.width, d.height, 3, spec, slot.out, 0))],
  ['prepareFile sync (workers), sharp', () => withFast(false, prepareAll('sync'))],
  ['prepareFile sync (workers), short way', () => withFast(true, prepareAll('sync'))],
  ['prepareFile async (main thread), sharp', () => withFast(false, prepareAll('async'))],
  ['prepareFile async (main thread), short way', () => withFast(true, prepareAll('async'))],
];

const cpu: number[][] = rows.map(() => []);
for (const [, run] of rows) await run(); // warm-up: JIT, wasm tier-up, libvips' caches
const shortWay = jpegFastPathRuns();
for (let round = 0; round < args.rounds; round++) {
  for (const [i, [, run]] of rows.entries()) {
    const start = process.cpuUsage();
    await run();
    const used = process.cpuUsage(start);
    cpu[i].push((used.user + used.system) / 1000 / files.length);
  }
}
if (jpegFastPathRuns() === shortWay) throw new Error('the short way never ran');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), Node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`);
console.log(`${files.length} photos from ${args.data}, ${args.rounds} rounds; CPU ms per photo\n`);
console.log(`${'row'.padEnd(44)} median     min`);
rows.forEach(([name], i) => console.log(`${name.padEnd(44)} ${median(cpu[i]).toFixed(3).padStart(6)}  ${Math.min(...cpu[i]).toFixed(3).padStart(6)}`));
