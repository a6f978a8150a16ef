import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { machine } from '../sections.ts';
import { DEFAULT_BATCH_SIZE, loadModel, type Classifier, type LoadModelOptions } from '../../src/node/index.ts';
import { DEFAULT_TOP_K, openSession, type EpChoice } from '../../src/core/index.ts';
import { firstLine } from '../../src/core/index.ts';
import { DEFAULT_BASELINE_IMAGES, DEFAULT_BATCH_SIZES, DEFAULT_IMAGES, DEFAULT_ROUNDS, GOALS } from './defaults.ts';
import { inputTensors, pickImages } from './images.ts';
import { ortWebRows } from './ort-web.ts';
import { pairedPredict, type Paired } from './paired.ts';
import { prepareRow, prepareSharpRow } from './prepare.ts';
import { latencyRow } from './predict.ts';
import { rawOrtRows } from './raw-ort.ts';
import { round, type BenchContext } from './row.ts';
import { load1m, RssSampler } from './stats.ts';
import { tfjsRow, tfjsUnavailable } from './tfjs.ts';
import type { BenchReport, BenchRow, VariantStatus } from './types.ts';
import { modelVariants, type VariantFile } from './variants.ts';

export interface BenchOptions {
  /** Model folder (model.onnx, tfjs/, maybe model.int8.onnx / model.fp16.onnx) or an .onnx file. */
  model: string;
  /** Folder of photos, searched recursively. */
  data: string;
  /** Photos timed by the ONNX Runtime rows (default 300, fewer if the folder has fewer). */
  images?: number;
  /** Batch sizes of the raw ONNX Runtime sweep (default 1, 8, 16, 32; 1 is always included). */
  batchSizes?: readonly number[];
  /** Batch size of the predict and TF.js rows (default: predict's, 16). */
  batchSize?: number;
  /** Photos timed by the TF.js and onnxruntime-web rows (default min(images, 100)). */
  baselineImages?: number;
  /** Alternating predict / raw rounds behind the goal ratio (default 3). */
  rounds?: number;
  ep?: EpChoice;
  threads?: number;
  /** Include the TF.js row (default true). */
  tfjs?: boolean;
  /** Include the onnxruntime-web rows (default true). */
  ortWeb?: boolean;
  /** Recorded in the report so the numbers can be reproduced. */
  command?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} should be a positive integer, got ${value}`);
  return value;
}

function ratio(value: number, goal: number) {
  return { value: round(value, 2), goal, met: value >= goal };
}

/**
 * When the model alone keeps every core busy, preprocessing cannot hide behind it, only share the
 * cores: a perfectly overlapped predict gets cores / (model + preprocessing CPU per image).
 */
function cpuBudget(model: BenchRow, preparing: BenchRow): BenchReport['cpuBudget'] {
  const cores = availableParallelism();
  const ceilingRate = (cores * 1000) / (model.cpuMsPerImage + preparing.cpuMsPerImage);
  return {
    cores,
    modelCpuMs: model.cpuMsPerImage,
    prepareCpuMs: preparing.cpuMsPerImage,
    ceilingRate: round(ceilingRate, 1),
    ceilingRatio: round(Math.min(1, ceilingRate / model.imagesPerSecond), 2),
  };
}

interface Job {
  files: readonly string[];
  inputs: readonly Float32Array[];
  batchSize: number;
  rounds: number;
  threads?: number;
  context: BenchContext;
}

/** One model file: the raw batch sweep over `sizes`, then predict paired with the best of them. */
async function benchVariant({ variant, file }: VariantFile, classifier: Classifier, sizes: readonly number[], job: Job): Promise<{ rows: BenchRow[]; paired: Paired }> {
  // The raw session gets the provider the classifier ended up on, so 'auto' is decided once.
  const ep = classifier.executionProvider === 'cuda' ? 'cuda' : 'cpu';
  const session = await openSession(await readFile(file), { ep, ...(job.threads !== undefined && { threads: job.threads }) });
  try {
    const sweep = await rawOrtRows(session, job.inputs, classifier.spec.preprocess, sizes, job.files.length, variant, job.context);
    const best = sweep.find((r) => r.best) as BenchRow;
    const paired = await pairedPredict(classifier, session, job.inputs, best.batchSize, job.files, job.batchSize, job.rounds, variant, job.context);
    return { rows: [...sweep, paired.row], paired };
  } finally {
    await session.release();
  }
}

/** The quantised files beside the model: batch 1 and fp32's best size; one that fails is reported. */
async function benchQuantised(variants: readonly VariantFile[], sizes: readonly number[], loadOptions: LoadModelOptions, job: Job) {
  const rows: BenchRow[] = [];
  const statuses: VariantStatus[] = [];
  for (const variant of variants) {
    let classifier: Classifier | undefined;
    try {
      classifier = await loadModel(variant.file, loadOptions);
      const measured = await benchVariant(variant, classifier, sizes, job);
      rows.push(...measured.rows);
      statuses.push({ ...variant, status: 'measured', predictOverRawOrt: measured.paired.ratio });
    } catch (error) {
      job.context.log(`  ${variant.variant}: ${firstLine(error)}`);
      statuses.push({ ...variant, status: 'failed', error: firstLine(error) });
    } finally {
      await classifier?.release();
    }
  }
  return { rows, statuses };
}

/** onnxruntime-web and TF.js, the slow baselines, on the first `baselineImages` photos. */
async function benchBaselines(options: BenchOptions, dir: string, fp32: string, classifier: Classifier, sizes: readonly number[], job: Job) {
  const files = job.files.slice(0, positive(options.baselineImages ?? Math.min(job.files.length, DEFAULT_BASELINE_IMAGES), 'baselineImages'));
  const rows: BenchRow[] = [];
  const skipped: BenchReport['skipped'] = [];
  if (options.ortWeb ?? true) {
    try {
      rows.push(...(await ortWebRows(await readFile(fp32), job.inputs, classifier.spec.preprocess, sizes, files.length, 'fp32', job.context, job.threads)));
    } catch (error) {
      skipped.push({ what: 'onnxruntime-web', reason: firstLine(error) });
    }
  }
  if (options.tfjs ?? true) {
    try {
      const reason = tfjsUnavailable(dir);
      if (reason) throw new Error(reason);
      rows.push(await tfjsRow(dir, classifier.spec, files, job.batchSize, DEFAULT_TOP_K, job.context));
    } catch (error) {
      skipped.push({ what: 'TF.js', reason: firstLine(error) });
    }
  }
  for (const s of skipped) job.context.log(`  skipped ${s.what}: ${s.reason}`);
  return { rows, skipped };
}

/**
 * Measures, on the same machine and photos in one run: onnxruntime-node on ready tensors (batch
 * sweep), `footwear predict` end to end (paired with the raw model for the goal ratio), its
 * batch-1 latency, the int8/fp16 files when present, onnxruntime-web's wasm build and TF.js.
 * Rates are images per second; see BenchReport.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? (() => {});
  const batchSize = positive(options.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize');
  // Batch 1 always: the report's raw batch-1 rate comes from it.
  const sizes = [...new Set([1, ...(options.batchSizes ?? DEFAULT_BATCH_SIZES).map((b) => positive(b, 'batch size'))])].sort((a, b) => a - b);
  const rounds = positive(options.rounds ?? DEFAULT_ROUNDS, 'rounds');
  const images = positive(options.images ?? DEFAULT_IMAGES, 'images');
  if (options.threads !== undefined) positive(options.threads, 'threads');
  const loadOptions = { ep: options.ep ?? 'auto', threads: options.threads, log };
  const loadStart = load1m();
  const sampler = new RssSampler();
  try {
    const { dir, files: variantFiles } = modelVariants(options.model);
    // The fp32 model first: a missing CUDA or a broken model stops the bench before any timing.
    const classifier = await loadModel(variantFiles[0].file, loadOptions);
    let job: Job;
    let fp32: Awaited<ReturnType<typeof benchVariant>>;
    let latency;
    let preparing: BenchRow;
    let preparingBefore: BenchRow;
    try {
      const files = await pickImages(options.data, images);
      log(`bench:infer: ${files.length} photos from ${options.data}, ${classifier.executionProvider}, load ${loadStart}`);
      const inputs = await inputTensors(files, Math.max(...sizes, batchSize), classifier.spec.preprocess);
      job = { files, inputs, batchSize, rounds, threads: options.threads, context: { sampler, log } };
      fp32 = await benchVariant(variantFiles[0], classifier, sizes, job);
      latency = await latencyRow(classifier, files, 'fp32', job.context);
      preparingBefore = await prepareSharpRow(files, classifier.spec.preprocess, job.context);
      preparing = await prepareRow(files, classifier.spec.preprocess, job.context);
    } finally {
      await classifier.release();
    }
    const best = fp32.rows.find((r) => r.kind === 'raw-ort' && r.best) as BenchRow;
    // The other files and the baselines run batch 1 and fp32's best size only, to keep it short.
    const fewer = [...new Set([1, best.batchSize])];
    const quantised = await benchQuantised(variantFiles.slice(1), fewer, loadOptions, job);
    const baselines = await benchBaselines(options, dir, variantFiles[0].file, classifier, fewer, job);

    const rows = [...fp32.rows, latency.row, preparingBefore, preparing, ...quantised.rows, ...baselines.rows];
    const rate = (kind: BenchRow['kind']) => rows.filter((r) => r.kind === kind && r.variant === 'fp32').reduce<number | undefined>((a, r) => Math.max(a ?? 0, r.imagesPerSecond), undefined);
    const predict = fp32.paired.row.imagesPerSecond;
    const tfjs = rate('tfjs');
    const ortWeb = rate('ort-web');
    return {
      machine: machine(),
      date: new Date().toISOString(),
      ...(options.command !== undefined && { command: options.command }),
      model: variantFiles[0].file,
      data: options.data,
      images: job.files.length,
      executionProvider: classifier.executionProvider,
      threads: options.threads ?? null,
      loadAverage: { start: loadStart, end: load1m() },
      peakRssMiB: round(sampler.peakMiB, 1),
      variants: [{ ...variantFiles[0], status: 'measured', predictOverRawOrt: fp32.paired.ratio }, ...quantised.statuses],
      rows,
      rawOrt: { batch1: (rows.find((r) => r.kind === 'raw-ort' && r.batchSize === 1) as BenchRow).imagesPerSecond, best: best.imagesPerSecond, bestBatchSize: best.batchSize },
      predict,
      pairing: { rounds: fp32.paired.raw.length, rawBatchSize: fp32.paired.batchSize, raw: fp32.paired.raw, predict: fp32.paired.predict },
      latency: latency.latency,
      ...(tfjs !== undefined && { tfjs }),
      ...(ortWeb !== undefined && { ortWeb }),
      ratios: {
        predictOverRawOrt: ratio(fp32.paired.ratio, GOALS.predictOverRawOrt),
        ...(tfjs !== undefined && { predictOverTfjs: ratio(predict / tfjs, GOALS.predictOverTfjs) }),
      },
      cpuBudget: cpuBudget(best, preparing),
      skipped: baselines.skipped,
    };
  } finally {
    sampler.stop();
  }
}
