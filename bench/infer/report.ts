import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { BENCHMARKS_MD, writeSection } from '../sections.ts';
import { CUDA_INSTALL_HINT } from '../../src/core/index.ts';
import type { BenchReport, BenchRow, Ratio } from './types.ts';

// The report as a table for people: printed by `npm run bench:infer`, and with --write kept in
// BENCHMARKS.md under "## Inference" (CPU) or "## Inference: GPU" (a CUDA run).

export const CPU_HEADING = '## Inference';
export const GPU_HEADING = '## Inference: GPU';
export const GPU_NOT_MEASURED = 'not measured (no GPU available in this environment)';

const WHAT: Record<BenchRow['kind'], string> = {
  'raw-ort': 'model alone, ready tensors',
  predict: 'predict, files to top-k',
  'predict-latency': 'predict, one file per call',
  'ort-web': 'model alone, ready tensors',
  tfjs: 'TF.js, files to top-k',
  prepare: 'preprocessing alone, no model',
  'prepare-sharp': 'preprocessing alone, no model (before)',
};

const fixed = (value: number, digits = 1) => value.toFixed(digits);

function ratioText(name: string, ratio: Ratio): string {
  return `${name}: **${fixed(ratio.value, 2)}x** (goal >= ${ratio.goal}x: ${ratio.met ? 'met' : 'NOT met'})`;
}

export function table(report: BenchReport): string {
  const lines = [
    '| measurement | runtime | model | batch | images | img/s | ms/image | CPU ms/image | load 1m | peak RSS MiB |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of report.rows) {
    const rate = r.best ? `**${fixed(r.imagesPerSecond)}** (best)` : fixed(r.imagesPerSecond);
    lines.push(`| ${WHAT[r.kind]} | ${r.runtime} | ${r.variant} | ${r.batchSize} | ${r.images} | ${rate} | ${fixed(r.msPerImage)} | ${fixed(r.cpuMsPerImage)} | ${fixed(r.load1m, 2)} | ${fixed(r.peakRssMiB, 0)} |`);
  }
  return lines.join('\n');
}

/** The goal ratios, latency, memory and anything that did not run, one line each. */
export function summary(report: BenchReport): string[] {
  const { ratios, latency } = report;
  const { pairing } = report;
  const list = (rates: number[]) => rates.map((r) => fixed(r)).join(', ');
  const lines = [
    ratioText('predict / raw ONNX Runtime', ratios.predictOverRawOrt) +
      `: median of ${pairing.rounds} rounds, each timing predict next to the model alone at batch ${pairing.rawBatchSize} (the sweep's best) on the same photos` +
      ` (raw ${list(pairing.raw)} img/s; predict ${list(pairing.predict)} img/s)`,
  ];
  const budget = report.cpuBudget;
  lines.push(
    `CPU per photo: the model alone ${fixed(budget.modelCpuMs)} ms at batch ${pairing.rawBatchSize}, preprocessing ${fixed(budget.prepareCpuMs)} ms; ` +
      `with ${budget.cores} cores busy either way, predict can reach at most ${budget.cores} x 1000 / (${fixed(budget.modelCpuMs)} + ${fixed(budget.prepareCpuMs)}) = ${fixed(budget.ceilingRate)} img/s, ` +
      `${fixed(budget.ceilingRatio, 2)}x the model alone, however well the two overlap`,
  );
  const before = report.rows.find((r) => r.kind === 'prepare-sharp');
  const after = report.rows.find((r) => r.kind === 'prepare');
  if (before && after) {
    lines.push(
      `preprocessing CPU per photo: **${fixed(after.cpuMsPerImage, 2)} ms** (goal <= 1.0 ms: ${after.cpuMsPerImage <= 1 ? 'met' : 'NOT met'}); ` +
        `${fixed(before.cpuMsPerImage, 2)} ms with every photo decoded by sharp as before, measured in the same run`,
    );
  }
  for (const v of report.variants.slice(1)) {
    if (v.predictOverRawOrt !== undefined) lines.push(`${v.variant}: predict / raw ONNX Runtime ${fixed(v.predictOverRawOrt, 2)}x, taken the same way`);
  }
  if (ratios.predictOverTfjs && report.tfjs !== undefined) {
    lines.push(`${ratioText('predict / TF.js', ratios.predictOverTfjs)} = ${fixed(report.predict)} / ${fixed(report.tfjs)} img/s`);
  }
  lines.push(`latency per photo, batch 1, file to top-k (${latency.images} photos): p50 ${fixed(latency.p50Ms)} ms, p99 ${fixed(latency.p99Ms)} ms, mean ${fixed(latency.meanMs)} ms`);
  lines.push(`peak RSS (sampled) over the whole run: ${fixed(report.peakRssMiB, 0)} MiB`);
  for (const v of report.variants) if (v.status === 'failed') lines.push(`${v.variant} (${v.file}) could not run: ${v.error}`);
  for (const s of report.skipped) lines.push(`${s.what} skipped: ${s.reason}`);
  return lines;
}

export function formatText(report: BenchReport): string {
  return [
    `bench:infer: ${report.model} on ${report.images} photos from ${report.data} (${report.executionProvider}); load ${report.loadAverage.start} -> ${report.loadAverage.end}`,
    '',
    table(report),
    '',
    ...summary(report),
  ].join('\n');
}

/** The BENCHMARKS.md section for a run. */
export function markdownSection(report: BenchReport): string {
  const files = report.variants.map((v) => `${v.variant} \`${v.file}\``).join(', ');
  return [
    `- machine: ${report.machine}; 1-minute load average ${report.loadAverage.start} at the start and ${report.loadAverage.end} at the end, and beside each row (the machine is shared with other work, so rates move with it)`,
    `- date: ${report.date}`,
    `- command: \`${report.command ?? 'runBench (programmatic)'}\``,
    `- models: ${files}; execution provider ${report.executionProvider}; ONNX Runtime threads ${report.threads ?? 'default'}`,
    `- photos: ${report.images} from \`${report.data}\`, spread over its folders, already in the page cache; TF.js and onnxruntime-web rows time the first of them only (their "images" column)`,
    '- "model alone": `session.run` on input tensors made before the clock starts (no files, no decode); "predict": `Classifier.classifyFiles` as `footwear predict` runs it (read, decode, resize, run, softmax/top-k), timed in rounds that alternate with the model alone at its best batch size (the goal ratio below is the median of the per-round ratios, so both sides of it saw the same load); TF.js: the same job with the TF.js copy of the model (`tfjs/model.json`), same decode and preprocessing, `model.predict`',
    '- CPU ms/image: CPU time of the whole process (ONNX Runtime\'s threads, libuv\'s pool, worker threads) over the row, per image; "preprocessing alone": read, decode and resize of each photo, one at a time, no model',
    '- peak RSS: the largest resident set size sampled while the row ran; the process is one, so it includes what earlier rows left allocated (ONNX Runtime keeps its arena for the largest batch)',
    '',
    table(report),
    '',
    ...summary(report).map((line) => `- ${line}`),
  ].join('\n');
}

function gpuPlaceholder(): string {
  return [
    `- ${GPU_NOT_MEASURED}. No number here is estimated.`,
    '- to measure on a machine with an NVIDIA GPU (CUDA 12, cuDNN 9): `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false`, then',
    '  `npm run bench:infer -- --model DIR --data DIR --ep cuda --batch-sizes 1,32,128,256 --write`; int8/fp16 rows appear when `footwear convert --quantize int8|fp16` has written model.int8.onnx / model.fp16.onnx beside model.onnx.',
    `- without the CUDA provider, \`--ep cuda\` stops before measuring anything, saying: ${CUDA_INSTALL_HINT}.`,
  ].join('\n');
}

/**
 * Writes the run's section: "## Inference" for CPU runs, "## Inference: GPU" for CUDA runs. A CPU
 * run also adds the GPU section saying it is not measured, unless a GPU run has filled it.
 */
export async function writeReport(report: BenchReport, file = BENCHMARKS_MD): Promise<string[]> {
  if (report.executionProvider === 'cuda') {
    await writeSection(GPU_HEADING, markdownSection(report), file);
    return [GPU_HEADING];
  }
  await writeSection(CPU_HEADING, markdownSection(report), file);
  const current = existsSync(file) ? await readFile(file, 'utf8') : '';
  const gpu = current.split(/^## /m).find((s) => s.startsWith(GPU_HEADING.slice(3)));
  if (gpu === undefined || gpu.includes(GPU_NOT_MEASURED)) {
    await writeSection(GPU_HEADING, gpuPlaceholder(), file);
    return [CPU_HEADING, GPU_HEADING];
  }
  return [CPU_HEADING];
}
