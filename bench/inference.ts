// `npm run bench:inference -- --model DIR [--model DIR2 ...] [--data DIR] [--only ...] [--write]`: every inference number of
// BENCHMARKS.md from one run, one bench after another on the same machine, so the sections it
// refreshes share a date and a load history:
//   ## Inference            preprocessing CPU per photo before/after, predict vs the model alone
//   ## int8 on this CPU     int8 options vs fp32, paired rounds, median and spread
//   ## Against transformers.js   the same photos and weights through the HF pipeline
//   ## Browser inference    wasm and WebGPU ms per photo in headless Chromium, for every --model
//                           (e.g. the same data trained at 224 and at 160: input size is a lever)
// Each bench runs as its own child process (its own memory, its own CPU accounting); one that
// fails is reported and the others still run. With --write, each writes its own section and this
// script writes "## Inference: one run" saying which ran, when, for how long and under what load.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { machine, writeSection } from './sections.ts';
import { load1m } from './stats.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    data: { type: 'string', default: '../shared/data/shoe-sandal-boot/test' },
    only: { type: 'string' },
    write: { type: 'boolean', default: false },
  },
});
if (!values.model?.length) {
  process.stderr.write('bench:inference: --model DIR is required (a folder written by footwear train, with model.onnx)\n');
  process.exit(1);
}
// The first model is the one the Node benches measure; the browser table takes them all.
const models = values.model;
const model = models[0] as string;
const data = values.data as string;
const write = values.write ? ['--write'] : [];

interface Step {
  name: string;
  section: string;
  script: string;
  args: string[];
}

const STEPS: Step[] = [
  { name: 'infer', section: '## Inference', script: 'infer/main.ts', args: ['--model', model, '--data', data, '--rounds', '3', ...write] },
  { name: 'int8', section: '## int8 on this CPU', script: 'int8-sweep.ts', args: ['--model', model, '--data', data, '--rounds', '6', ...write] },
  { name: 'transformers-js', section: '## Against transformers.js', script: 'transformers-js.ts', args: ['--model', model, '--data', data, ...write] },
  { name: 'web', section: '## Browser inference', script: 'web.ts', args: [...models.flatMap((m) => ['--model', m]), '--images', '16', ...write] },
];

const only = values.only?.split(',');
const unknown = only?.filter((name) => !STEPS.some((s) => s.name === name));
if (unknown?.length) {
  process.stderr.write(`bench:inference: --only expects names from ${STEPS.map((s) => s.name).join(',')}, got ${unknown.join(',')}\n`);
  process.exit(1);
}
const steps = only ? STEPS.filter((s) => only.includes(s.name)) : STEPS;

function run(step: Step): Promise<number | null> {
  const script = path.join(import.meta.dirname, step.script);
  return new Promise((resolve) => {
    // Inherits stdout/stderr: each bench prints its own progress and table as it goes.
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...step.args], { stdio: 'inherit' });
    child.on('close', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
}

const started = new Date();
const lines: string[] = [];
let failed = 0;
for (const step of steps) {
  const before = load1m();
  const t0 = Date.now();
  process.stderr.write(`\n=== bench:inference: ${step.name} (${step.script} ${step.args.join(' ')})\n`);
  const code = await run(step);
  const minutes = ((Date.now() - t0) / 60_000).toFixed(1);
  if (code !== 0) failed++;
  lines.push(`| ${step.section.replace('## ', '')} | \`bench/${step.script}\` | ${code === 0 ? 'ok' : `failed (exit ${code})`} | ${minutes} | ${before}-${load1m()} |`);
}

const body = [
  `- machine: ${machine()}`,
  `- date: ${started.toISOString()} to ${new Date().toISOString()}`,
  `- command: \`npm run bench:inference -- ${models.map((m) => `--model ${m}`).join(' ')}${values.data === '../shared/data/shoe-sandal-boot/test' ? '' : ` --data ${data}`}${values.only ? ` --only ${values.only}` : ''}${values.write ? ' --write' : ''}\``,
  '- each section below was written by this one run; their own lines give the details (commands, rounds, load row by row)',
  '',
  '| section | bench | result | minutes | load 1m before-after |',
  '| --- | --- | --- | ---: | --- |',
  ...lines,
].join('\n');
process.stdout.write(`\n${body}\n`);
if (values.write) await writeSection('## Inference: one run', body);
process.exitCode = failed > 0 ? 1 : 0;
