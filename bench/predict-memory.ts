// Does `footwear predict --jsonl` keep memory flat at catalogue scale? Runs the built CLI over the
// 1,800 test photos, then over test + train together (12,715 photos, 7x as many), each in its own
// process, and compares their peak resident memory (getrusage maxrss of the whole process, worker
// threads and native memory included; bench/peak-memory.mjs); the goal is within 10%. Also
// reports the peak JS heap, which is where held file lists or results would show first.
// Writes "## Predict: memory at catalogue scale" of BENCHMARKS.md.
// Usage: npm run build && node --import tsx bench/predict-memory.ts [--model DIR] [--ep cpu] [--out BENCHMARKS.md] [--dry-run]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SHOES } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { BENCHMARKS_MD, machine, writeSection } from './sections.ts';

const HEADING = '## Predict: memory at catalogue scale';
const GOAL = 0.1;
const ROOT = path.resolve(fileURLToPath(import.meta.url), '../..');
const BIN = path.join(ROOT, 'bin', 'footwear.js');
const PRELOAD = path.join(ROOT, 'bench', 'peak-memory.mjs');

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    ep: { type: 'string', default: 'cpu' },
    out: { type: 'string', default: BENCHMARKS_MD },
    'dry-run': { type: 'boolean', default: false },
  },
});

interface Run {
  label: string;
  inputs: string[];
  photos: number;
  seconds: number;
  maxRssBytes: number;
  peakHeapBytes: number;
}

const MiB = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const rel = (p: string) => path.relative(ROOT, p) || '.';

async function measure(model: string, label: string, inputs: string[], work: string): Promise<Run> {
  const out = path.join(work, `${label}.jsonl`);
  const stats = path.join(work, `${label}.memory.json`);
  const args = ['--import', PRELOAD, BIN, 'predict', '--model', model, ...inputs, '--jsonl', out, '--ep', values.ep as string];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FOOTWEAR_PEAK_MEMORY_FILE: stats } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`predict over ${label} exited with ${code}:\n${stderr}`);
  const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
  const summary = (JSON.parse(lines.at(-1) as string) as { summary: { predicted: number; failed: number } }).summary;
  if (summary.predicted + summary.failed !== lines.length - 1) throw new Error(`${label}: the summary counts ${summary.predicted + summary.failed} rows, the file has ${lines.length - 1}`);
  const memory = JSON.parse(await readFile(stats, 'utf8')) as { maxRssBytes: number; peakHeapBytes: number };
  const run = { label, inputs, photos: lines.length - 1, seconds, ...memory };
  process.stderr.write(`${label}: ${run.photos} photos in ${seconds.toFixed(1)} s, peak RSS ${MiB(run.maxRssBytes)} MiB, peak heap ${MiB(run.peakHeapBytes)} MiB\n`);
  return run;
}

const model = values.model ?? (await trainedModel());
const work = await mkdtemp(path.join(os.tmpdir(), 'footwear-predict-memory-'));
const loadBefore = os.loadavg()[0];
const started = new Date();
const runs: Run[] = [];
try {
  runs.push(await measure(model, 'test', [path.join(SHOES, 'test')], work));
  runs.push(await measure(model, 'test+train', [path.join(SHOES, 'test'), path.join(SHOES, 'train')], work));
} finally {
  await rm(work, { recursive: true, force: true });
}
const loadAfter = os.loadavg()[0];
const [small, large] = runs;
const growth = large.maxRssBytes / small.maxRssBytes - 1;
const verdict = Math.abs(growth) <= GOAL ? 'within' : 'NOT within';

const body = [
  `\`footwear predict --jsonl\` streams the listing through the classifier and each row to the file, so its memory should not`,
  `grow with the number of photos. Peak resident memory of the whole predict process (getrusage maxrss: worker threads and`,
  `ONNX Runtime included), and the highest JS heap seen (sampled every 100 ms), over the shared catalogue photos.`,
  '',
  `- machine: ${machine()}; 1-minute load average ${loadBefore.toFixed(1)} at the start and ${loadAfter.toFixed(1)} at the end (2 cores shared with other work)`,
  `- date: ${started.toISOString()}`,
  `- command: \`npm run build && npm run bench:predict-memory\`; each run is \`node --import bench/peak-memory.mjs bin/footwear.js predict --model MODEL FOLDERS --jsonl OUT --ep ${values.ep}\``,
  `- model: ${path.basename(model)} (the test fixture's model, fixtures/trained-model.ts, unless --model)`,
  '',
  '| photos | folders | wall s | photos/s | peak RSS MiB | peak JS heap MiB |',
  '| ---: | --- | ---: | ---: | ---: | ---: |',
  ...runs.map((r) => `| ${r.photos.toLocaleString('en-US')} | ${r.inputs.map(rel).join(' + ')} | ${r.seconds.toFixed(1)} | ${(r.photos / r.seconds).toFixed(1)} | ${MiB(r.maxRssBytes)} | ${MiB(r.peakHeapBytes)} |`),
  '',
  `With ${(large.photos / small.photos).toFixed(1)}x the photos, peak RSS changed by **${(growth * 100).toFixed(1)}%**: ${verdict} the 10% goal.`,
].join('\n');

process.stdout.write(`${HEADING}\n\n${body}\n`);
if (!values['dry-run']) await writeSection(HEADING, body, values.out);
if (Math.abs(growth) > GOAL) process.exitCode = 1;
