// Load test of `footwear serve`: real catalogue JPEGs POSTed to /v1/classify over loopback by
// autocannon at several concurrencies, each for a bounded time; then the same photos through the
// Classifier API in one process (what `footwear predict` runs) for comparison. Prints a markdown
// table and rewrites the "## Server" section of BENCHMARKS.md.
// Usage: node --import tsx bench/server.ts [--model DIR] [--duration 10] [--concurrency 1,8,32]
//   [--workers 1] [--threads N] [--max-batch 16] [--max-delay-ms 5] [--max-wait-ms N] [--images 300] [--out BENCHMARKS.md] [--dry-run]
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DEFAULT_BATCH_SIZE, loadModel } from '../src/node/index.ts';
import { isFailure } from '../src/core/index.ts';
import { resolveOptions } from '../src/serve/options.ts';
import { SHOES, firstFiles } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { loadTable, type LoadRow } from './server-report.ts';
import { quantile } from './stats.ts';
import { writeSection } from './sections.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '1,8,32' },
    workers: { type: 'string', default: '1' },
    threads: { type: 'string' },
    'max-batch': { type: 'string', default: '16' },
    'max-delay-ms': { type: 'string', default: '5' },
    'max-wait-ms': { type: 'string' },
    images: { type: 'string', default: '300' },
    out: { type: 'string', default: path.join(import.meta.dirname, '..', 'BENCHMARKS.md') },
    'dry-run': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.duration);
const levels = values.concurrency.split(',').map(Number);
const serveOptions = {
  workers: Number(values.workers),
  maxBatch: Number(values['max-batch']),
  maxDelayMs: Number(values['max-delay-ms']),
  ...(values['max-wait-ms'] !== undefined && { maxWaitMs: Number(values['max-wait-ms']) }),
  ...(values.threads !== undefined && { threads: Number(values.threads) }),
};
if (!(seconds > 0 && seconds <= 60) || levels.some((c) => !(c >= 1 && c <= 256))) throw new Error('--duration must be 1..60 s and each concurrency 1..256');

const model = values.model ?? (await trainedModel());
const resolved = resolveOptions({ model, ...serveOptions });
const perClass = Math.ceil(Number(values.images) / 3);
const byClass = await firstFiles(path.join(SHOES, 'test'), perClass);
// Interleaved classes, so every stretch of requests mixes boots, sandals and shoes.
const files = byClass.map((_, i) => byClass[(i % 3) * perClass + Math.floor(i / 3)]?.file).filter((f): f is string => Boolean(f));
const bodies = await Promise.all(files.map((f) => readFile(f)));
const meanKb = bodies.reduce((a, b) => a + b.length, 0) / bodies.length / 1024;

/** Images per second through the Classifier API as `footwear predict` uses it, after a warm-up pass over a few files. */
async function classifierRate(): Promise<{ images: number; seconds: number; provider: string }> {
  const classifier = await loadModel(model, { ep: 'auto' });
  try {
    for await (const _ of classifier.classifyFiles(files.slice(0, 32))) void _;
    const start = performance.now();
    let images = 0;
    for await (const result of classifier.classifyFiles(files)) if (!isFailure(result)) images++;
    return { images, seconds: (performance.now() - start) / 1000, provider: classifier.executionProvider };
  } finally {
    await classifier.release();
  }
}

async function startChild(): Promise<{ url: string; stop: () => Promise<void> }> {
  const script = path.join(import.meta.dirname, 'server-child.ts');
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), script, JSON.stringify({ model, ...serveOptions })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const [line] = (await Promise.race([once(lines, 'line'), exited.then(() => [undefined])])) as [string | undefined];
  if (!line) throw new Error('the server process exited before it was ready');
  return {
    url: (JSON.parse(line) as { url: string }).url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Sum and count of the server's batch-size histogram, to tell the mean batch of one run. */
async function batchTotals(url: string): Promise<[number, number]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return [value('footwear_batch_size_sum'), value('footwear_batch_size_count')];
}

function load(url: string, concurrency: number, duration: number): Promise<Omit<LoadRow, 'meanBatch'>> {
  let next = 0;
  const times: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: concurrency,
        duration,
        requests: [
          {
            method: 'POST',
            path: '/v1/classify',
            headers: { 'content-type': 'image/jpeg' },
            setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        times.sort((a, b) => a - b);
        resolve({
          concurrency,
          seconds: result.duration,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          p50: quantile(times, 0.5),
          p95: quantile(times, 0.95),
          p99: quantile(times, 0.99),
        });
      },
    );
    // autocannon reports p97.5 but no p95, so percentiles come from every 200's own time.
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status === 200) times.push(ms);
    });
  });
}

console.error(`# ${files.length} photos (${meanKb.toFixed(1)} KiB mean), ${seconds} s per concurrency level`);
// Other work on the machine moves every number here; the load average says how much there was.
const loadAtStart = os.loadavg()[0];
const direct = await classifierRate();
const server = await startChild();
const rows: LoadRow[] = [];
let info: { executionProvider: string; model: string };
try {
  info = (await (await fetch(`${server.url}/v1/model`)).json()) as typeof info;
  await load(server.url, 8, Math.min(2, seconds)); // warm-up, not reported
  for (const concurrency of levels) {
    const [sum0, count0] = await batchTotals(server.url);
    const row = await load(server.url, concurrency, seconds);
    const [sum1, count1] = await batchTotals(server.url);
    rows.push({ ...row, meanBatch: (sum1 - sum0) / Math.max(1, count1 - count0) });
    console.error(`concurrency ${concurrency}: ${(row.ok / row.seconds).toFixed(1)} req/s`);
  }
} finally {
  await server.stop();
}

const cpus = os.cpus();
const args = process.argv.slice(2);
const section = `\`footwear serve\` under load: \`POST /v1/classify\` with ${files.length} real JPEGs from \`../shared/data/shoe-sandal-boot/test\`
(${meanKb.toFixed(1)} KiB mean), sent by autocannon over loopback (127.0.0.1) for ${seconds} s per concurrency level, after a
short warm-up. Server and load generator run in separate processes on the same machine.

- machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}; 1-minute load average ${loadAtStart.toFixed(1)} at the start and ${os.loadavg()[0].toFixed(1)} at the end (the machine was shared with other work)
- date: ${new Date().toISOString()}
- command: \`node --import tsx bench/server.ts${args.length ? ` ${args.join(' ')}` : ''}\`
- model: ${info.model} (execution provider ${info.executionProvider}); server: ${serveOptions.workers} worker(s) x ${resolved.threads} ONNX Runtime thread(s), max-batch ${resolved.maxBatch}, max-delay-ms ${resolved.maxDelayMs}, max-wait-ms ${resolved.maxWaitMs}
- latency is per request as the client saw it, over 200 responses only; "mean batch" is images per ONNX Runtime run during that level

${loadTable(rows)}

For comparison, the same ${files.length} photos through the Classifier API in one process (\`classifyFiles\` with its defaults:
batches of ${DEFAULT_BATCH_SIZE}, preprocessing on worker threads, what \`footwear predict\` runs; no HTTP): ${direct.images} images in ${direct.seconds.toFixed(2)} s =
**${(direct.images / direct.seconds).toFixed(1)} images/s** (${direct.provider}).
`;
process.stdout.write(`${section}\n`);
if (!values['dry-run']) {
  await writeSection('## Server', section, values.out);
  console.error(`wrote the Server section of ${values.out}`);
}
