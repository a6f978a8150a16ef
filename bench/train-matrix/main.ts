// `npm run bench:train -- --preset matrix|small|fashion|full [--only N,M] [--write]`: trains each
// row of the preset with `footwear train` (a child process, as a user runs it), scores the model
// on the test folder with `footwear eval`, and tabulates validation and test accuracy, minutes of
// feature extraction and of training, and epochs. Rows run one after another on one machine; the
// load beside each row says how shared it was. Writes "## Training: <preset>" with --write.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { machine, writeSection } from '../sections.ts';
import { load1m } from '../stats.ts';
import { PRESETS, type Row } from './presets.ts';
import { subset } from './subset.ts';

const { values } = parseArgs({ options: { preset: { type: 'string', default: 'matrix' }, only: { type: 'string' }, write: { type: 'boolean', default: false } } });
const preset = values.preset as string;
const all = PRESETS[preset];
if (!all) throw new Error(`--preset should be one of ${Object.keys(PRESETS).join('|')}, got ${preset}`);
const rows = values.only ? values.only.split(',').map((i) => all[Number(i)]) : all;
const cli = path.resolve(import.meta.dirname, '../../bin/footwear.js');

function footwear(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`footwear ${args.join(' ')} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

interface Measured {
  row: Row;
  val: number;
  test: number;
  extractMin: number;
  trainMin: number;
  totalMin: number;
  epochs: string;
  views: number;
  load: [number, number];
}

interface TrainJson {
  valAccuracy?: number;
  bestEpoch: number;
  history: unknown[];
  data: { augment: number };
  seconds: { features: number; head: number; total: number };
  fineTune?: { warmUp: { epochs: number }; epochs: number; bestEpoch: number };
}

const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(x * 100).toFixed(2)}%`);

/** The section as far as it has got: written after every row, so a crash later keeps the rows measured. */
function render(measured: Measured[], done: boolean): string {
  const table = [
    '| run | photos a class | views | validation | test | extraction min | training min | total min | epochs | load 1m |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    ...measured.map(
      (m) =>
        `| ${m.row.name} | ${m.row.perClass ?? 'all'} | ${m.views} | ${pct(m.val)} | **${pct(m.test)}** | ${m.extractMin.toFixed(1)} | ${m.trainMin.toFixed(1)} | ${m.totalMin.toFixed(1)} | ${m.epochs} | ${m.load[0]}-${m.load[1]} |`,
    ),
  ].join('\n');
  return [
    `- machine: ${machine()}; the 1-minute load beside each row (the machine is shared)`,
    `- date: ${new Date().toISOString()}${done ? '' : ` (in progress: ${measured.length} of ${rows.length} rows so far)`}`,
    `- command: \`npm run bench:train -- --preset ${preset}${values.only ? ` --only ${values.only}` : ''} --write\``,
    `- each row: \`footwear train --data TRAIN [flags] --json\` then \`footwear eval --model M --data TEST\`; validation = 10% of the training photos held out by the trainer (seed 42), test = ${[...new Set(measured.map((m) => path.relative(path.resolve(import.meta.dirname, '../../..'), m.row.test)))].join(', ')}; subsets drawn at random with a fixed seed; one run per row (seed-to-seed spread is about 0.5 points on these sets)`,
    '',
    table,
  ].join('\n');
}

const work = await mkdtemp(path.join(os.tmpdir(), 'footwear-train-bench-'));
const measured: Measured[] = [];
try {
  for (const [i, row] of rows.entries()) {
    const before = load1m();
    const data = await subset(row.train, row.perClass, path.join(work, `data-${path.basename(path.dirname(row.train))}-${row.perClass}`));
    const out = path.join(work, `model-${i}`);
    let result: TrainJson;
    try {
      result = JSON.parse(await footwear(['train', '--data', data, '--out', out, '--json', ...row.flags])) as TrainJson;
    } catch (error) {
      // One failed row (say, out of memory) should not cost the rows already measured.
      process.stderr.write(`${row.name}: ${(error as Error).message}\n`);
      continue;
    }
    const scored = JSON.parse(await footwear(['eval', '--model', out, '--data', row.test, '--json'])) as { accuracy: number };
    const ft = result.fineTune;
    const m: Measured = {
      row,
      val: result.valAccuracy ?? NaN,
      test: scored.accuracy,
      extractMin: result.seconds.features / 60,
      trainMin: result.seconds.head / 60,
      totalMin: result.seconds.total / 60,
      epochs: ft ? `head ${ft.warmUp.epochs} + ${ft.epochs} (best ${ft.bestEpoch})` : `${result.history.length} (best ${result.bestEpoch})`,
      views: result.data.augment,
      load: [before, load1m()],
    };
    measured.push(m);
    process.stderr.write(`${row.name}: val ${(m.val * 100).toFixed(2)}%, test ${(m.test * 100).toFixed(2)}%, ${m.totalMin.toFixed(1)} min\n`);
    await rm(out, { recursive: true, force: true });
    if (values.write) await writeSection(`## Training: ${preset}`, render(measured, false));
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

const body = render(measured, true);
process.stdout.write(`${body}\n`);
if (values.write) await writeSection(`## Training: ${preset}`, body);
