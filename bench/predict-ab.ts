// `npm run bench:predict-ab -- --a OTHER_CHECKOUT [--model DIR] [--rounds 5]`: the same
// `footwear predict` job from two checkouts (this one and --a, e.g. a worktree of an older
// commit), run alternately so both see the same machine load; reports each side's photos/s per
// round, the medians and the median of the per-round ratios. Writes "## Predict: before and after"
// with --write.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SHOES } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { machine, writeSection } from './sections.ts';
import { load1m, quantile } from './stats.ts';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    model: { type: 'string' },
    data: { type: 'string', default: path.join(SHOES, 'test') },
    rounds: { type: 'string', default: '5' },
    write: { type: 'boolean', default: false },
  },
});
if (!values.a) throw new Error('usage: npm run bench:predict-ab -- --a OTHER_CHECKOUT [--model DIR] [--data DIR] [--rounds 5] [--write]');
const model = values.model ?? (await trainedModel());
const rounds = Number(values.rounds);
const here = path.resolve(import.meta.dirname, '..');
const sides = { a: path.resolve(values.a), b: here };
const work = await mkdtemp(path.join(os.tmpdir(), 'footwear-ab-'));

/** Seconds for one whole `footwear predict` command over the photos, from spawn to exit. */
function run(checkout: string, round: number): Promise<number> {
  const out = path.join(work, `${path.basename(checkout)}-${round}.csv`);
  const args = [path.join(checkout, 'bin', 'footwear.js'), 'predict', '--model', model, values.data as string, '--csv', out, '--ep', 'cpu'];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: checkout, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve((performance.now() - started) / 1000) : reject(new Error(`${checkout}: exit ${code}\n${stderr}`))));
  });
}

const photos = 1800;
const times: Record<'a' | 'b', number[]> = { a: [], b: [] };
const loadStart = load1m();
await run(sides.a, -1); // warm the page cache and both sides' compile caches
await run(sides.b, -1);
for (let round = 0; round < rounds; round++) {
  // Alternate which side goes first, so neither always follows the other.
  const order: ('a' | 'b')[] = round % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
  for (const side of order) times[side].push(await run(sides[side], round));
  process.stderr.write(`round ${round + 1}: a ${(photos / times.a[round]).toFixed(1)}, b ${(photos / times.b[round]).toFixed(1)} photos/s\n`);
}
await rm(work, { recursive: true, force: true });
const rate = (side: 'a' | 'b') => times[side].map((t) => photos / t);
const ratios = times.a.map((t, i) => t / times.b[i]);
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
const lines = [
  `- machine: ${machine()}; 1-minute load average ${loadStart} at the start and ${load1m()} at the end (shared with other work: both sides saw it alike, round by round)`,
  `- date: ${new Date().toISOString()}`,
  `- command: \`npm run bench:predict-ab -- --a ${values.a} --rounds ${rounds}\`: \`footwear predict --model M ${path.relative(here, values.data as string)} --csv FILE --ep cpu\` as a whole command (start-up, model load, ${photos} photos), alternately from each checkout`,
  `- a: \`${sides.a}\`; b: this checkout`,
  '',
  '| side | photos/s per round | median photos/s |',
  '| --- | --- | ---: |',
  `| a | ${fmt(rate('a'))} | ${quantile(rate('a'), 0.5).toFixed(1)} |`,
  `| b | ${fmt(rate('b'))} | ${quantile(rate('b'), 0.5).toFixed(1)} |`,
  '',
  `b / a, median of the per-round ratios: **${quantile(ratios, 0.5).toFixed(2)}x** (spread ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (values.write) await writeSection('## Predict: before and after', lines.join('\n'));
