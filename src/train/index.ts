import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { buildFeatureModel, defaultFeatureLayers, loadTf, saveTfjsModel } from '../backbone/index.ts';
import { exportLayersModel, convertModelDir } from '../convert/index.ts';
import { openSession, type OnnxSession } from '../core/index.ts';
import { defaultPreprocess, MODEL_FILES, type ModelSpec } from '../core/index.ts';
import type { ScoredSummary } from '../eval/index.ts';
import { writeJsonAtomic, runtimeVersions } from '../node/index.ts';
import { assembleClassifier, classifierSpec } from './assemble.ts';
import { checkBackbone } from './backbone.ts';
import { cacheKey, readFeatureCache, writeFeatureCache } from './cache.ts';
import { chunkFolder, dropStaleChunks, extractInChunks } from './chunks.ts';
import type { EpochStats, TrainEvents } from './events.ts';
import type { FeatureSet } from './extract.ts';
import { trainHead, type HeadState } from './head.ts';
import { checkTrainOptions, TrainError, type TrainOptions } from './options.ts';
import { validatePhotos } from './validation.ts';
import { removeRunFile, RUN_FILE, writeRunFile } from './run-file.ts';
import { describeStop, type StopReason } from './stop.ts';
import { removeDerivedModels } from './derived-models.ts';
import { trainingData } from './training-data.ts';
import { settingsForData } from './small-data.ts';
import { fineTuneRequested, loadBackbone, trainFineTuned } from './fine-tune/index.ts'; // fine-tune hook
export { FINE_TUNE_DEFAULTS, type FineTuneOptions, type FineTuneResult } from './fine-tune/index.ts'; // fine-tune hook

export { defaultTrainOptions, MAX_VIEWS, TrainError, type TrainOptions } from './options.ts';
export { SMALL_DATA_PHOTOS, SMALL_DATA_VIEWS } from './small-data.ts';
export { readRunFile, RUN_FILE, type RunSettings } from './run-file.ts';
export type { TrainEvents, EpochStats } from './events.ts';
export { describeStop, type StopReason } from './stop.ts';

export interface TrainResult {
  modelDir: string;
  labels: string[];
  tfBackend: string;
  executionProvider: string;
  bestEpoch: number;
  valAccuracy?: number;
  history: EpochStats[];
  /** Why the head stopped where it did (also said in one log line). */
  stop: StopReason;
  skipped: { file: string; reason: string }[];
  /** Byte-identical images filed under different classes (a warning, not an error). */
  duplicates: { file: string; label: string }[][];
  onnx?: { path: string; maxAbsDiff: number };
  /** What `--augment` and `--batch-size` came to for this dataset (see small-data.ts for 'auto'). */
  data: { augment: number; batchSize: number };
  /** Photos per class that were used (readable), in label order. */
  classCounts: { label: string; train: number; validation: number }[];
  /**
   * The restored model on the validation split, photo by photo: confusion matrix, per-class
   * metrics, calibration and every mistake. Its accuracy is the best epoch's valAccuracy.
   */
  validation?: ScoredSummary;
  versions: Record<string, string>;
  /** Where the HTML report goes (report/writeTrainReport writes it from training.json; `footwear train` does). */
  report: string;
  seconds: { features: number; head: number; export: number; total: number };
}

/** What training.json holds: the options, the model spec and the result. */
export interface TrainingRecord {
  config: TrainOptions;
  spec: ModelSpec;
  result: TrainResult;
}

async function readCheckpoint(dir: string): Promise<{ key: string; state: HeadState } | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, MODEL_FILES.checkpoint), 'utf8')) as { key: string; state: HeadState };
  } catch {
    return undefined;
  }
}

/**
 * Trains a classifier on a folder-per-class dataset: the frozen backbone runs once per image in
 * ONNX Runtime (features cached on disk), the head trains in TF.js with a checkpoint after every
 * epoch, and the assembled model is saved in TF.js form and exported to ONNX.
 */
export async function train(options: TrainOptions, events: TrainEvents = {}): Promise<TrainResult> {
  if (await fineTuneRequested(options)) return trainFineTuned(options, events); // fine-tune hook: --fine-tune, or --resume of such a run
  const started = Date.now();
  checkTrainOptions(options);
  checkBackbone(options.backbone);
  const log = events.log ?? (() => {});
  if (!options.resume && existsSync(path.join(options.out, RUN_FILE))) {
    log(`${options.out} holds an interrupted run; starting this one over it (its saved features are reused where they match; --resume ${options.out} alone would have continued it)`);
  }
  // The run file is written before any long work, so whatever happens next, the model folder says
  // how to continue the run (after listing: an --out inside the data folder is no empty class).
  const { dataset, trainSamples, valSamples, duplicates } = await trainingData(options, log, () => writeRunFile(options));
  const data = settingsForData(options, trainSamples, dataset.labels);
  if (data.note) log(data.note);

  const { tf, backend } = await loadTf();
  log(`TF.js backend: ${backend}`);
  const base = await loadBackbone(tf, options); // fine-tune hook: --input-size rebuilds the backbone
  const featureLayers = options.featureLayers ?? defaultFeatureLayers(base, options.backbone);
  const preprocess = defaultPreprocess({ range: options.range, height: base.inputs[0].shape[1] ?? 224, width: base.inputs[0].shape[2] ?? 224 });
  const config = { classes: dataset.labels.length, dropout: options.dropout, learningRate: options.learningRate, epochs: options.epochs, batchSize: data.batchSize, patience: options.patience, seed: options.seed };

  // Features: from the cache when this exact run was interrupted or repeated, else extracted
  // (continuing from the chunks an interrupted extraction saved).
  const featuresStarted = Date.now();
  const key = cacheKey({ backbone: options.backbone, layers: featureLayers, preprocess, views: data.augment, seed: options.seed, train: trainSamples, val: valSamples });
  const cacheDir = path.join(options.out, MODEL_FILES.featureCache);
  const cached = await readFeatureCache(cacheDir, key);
  let sets = cached?.sets;
  let executionProvider = 'cache';
  const skipped: TrainResult['skipped'] = [...dataset.skipped, ...(cached?.failures ?? [])];
  if (sets) log(`features: reusing ${cacheDir}`);
  else {
    let session: OnnxSession | undefined;
    const openOnce = async () => {
      if (!session) {
        session = await openSession(exportLayersModel(buildFeatureModel(tf, base, featureLayers)), { ep: options.ep, log });
        executionProvider = session.executionProvider;
      }
      return session;
    };
    await dropStaleChunks(cacheDir, key);
    const chunks = chunkFolder(cacheDir, key);
    try {
      const total = trainSamples.length + valSamples.length;
      const progress = (offset: number) => (done: number) => events.progress?.('features', offset + done, total);
      const trainResult = await extractInChunks(openOnce, trainSamples, preprocess, { dir: chunks, name: 'train', key, views: data.augment, seed: options.seed, progress: progress(0) });
      const valResult = await extractInChunks(openOnce, valSamples, preprocess, { dir: chunks, name: 'val', key, views: 1, seed: options.seed, progress: progress(trainSamples.length) });
      const reused = trainResult.reused + valResult.reused;
      if (reused > 0) log(`features: ${reused} of ${total} images came from ${chunks}, saved by an interrupted run`);
      const failures = [...trainResult.failures, ...valResult.failures];
      skipped.push(...failures);
      const bad = failures.length;
      if (bad > options.maxBadFraction * total) {
        throw new TrainError(`${bad} of ${total} images could not be read (limit ${Math.round(options.maxBadFraction * 100)}%); first: ${skipped[0]?.file}: ${skipped[0]?.reason}`);
      }
      if (bad > 0) log(`skipped ${bad} unreadable image(s); first: ${skipped[0]?.file}: ${skipped[0]?.reason}`);
      const trainLabels = new Set(trainResult.views[0].labels);
      const lost = dataset.labels.filter((_, label) => !trainLabels.has(label));
      if (lost.length > 0) throw new TrainError(`no readable training images left in class folder(s): ${lost.join(', ')}`);
      sets = { val: valResult.views[0] };
      trainResult.views.forEach((v, i) => (sets![`train${i}`] = v));
      await writeFeatureCache(cacheDir, key, sets, failures);
      await rm(chunks, { recursive: true, force: true });
    } finally {
      await session?.release();
    }
  }
  const featureSeconds = (Date.now() - featuresStarted) / 1000;

  const headStarted = Date.now();
  const checkpointFile = path.join(options.out, MODEL_FILES.checkpoint);
  const previous = options.resume ? await readCheckpoint(options.out) : undefined;
  if (options.resume && previous?.key !== key) log('resume: no checkpoint of the head for these features; the head starts at epoch 1');
  else if (previous) log(`resume: the head continues after epoch ${previous.state.epoch} (best so far: epoch ${previous.state.bestEpoch})`);
  const trainViews = Object.entries(sets).filter(([name]) => name.startsWith('train')).map(([, set]) => set);
  const val: FeatureSet | undefined = sets.val.labels.length > 0 ? sets.val : undefined;
  const { model: head, state, norm } = await trainHead(tf, trainViews, val, config, {
    epoch: (stats) => events.epoch?.(stats),
    checkpoint: (s) => writeJsonAtomic(checkpointFile, { key, state: s }),
    resume: previous?.key === key ? previous.state : undefined,
  });
  const headSeconds = (Date.now() - headStarted) / 1000;
  const stop: StopReason = {
    reason: state.epoch < options.epochs ? 'patience' : 'epochs',
    lastEpoch: state.epoch,
    bestEpoch: state.bestEpoch,
    monitored: val ? 'validation loss' : 'training loss',
  };
  log(describeStop(stop, options));

  const classifier = assembleClassifier(tf, base, featureLayers, head, norm, config);
  const spec = classifierSpec(dataset.labels, preprocess, { name: options.backbone, cut: featureLayers.join('+') });
  await saveTfjsModel(classifier, path.join(options.out, MODEL_FILES.tfjs), { spec });
  const best = state.history.find((h) => h.epoch === state.bestEpoch);
  const validation = val ? validatePhotos(tf, head, val, norm, dataset.labels) : undefined;
  const perClass = (labels: Int32Array) => dataset.labels.map((_, c) => labels.reduce((n, l) => n + (l === c ? 1 : 0), 0));
  const trainCounts = perClass(trainViews[0].labels);
  const valCounts = perClass(sets.val.labels);

  const exportStarted = Date.now();
  let onnx: TrainResult['onnx'];
  if (options.export) {
    const converted = await convertModelDir(options.out, { verify: true, verifyFiles: valSamples.slice(0, 4).map((s) => s.file) });
    onnx = { path: converted.path, maxAbsDiff: converted.verification?.maxAbsDiff ?? NaN };
    await removeDerivedModels(options.out, log);
  }
  const result: TrainResult = {
    modelDir: options.out,
    labels: dataset.labels,
    tfBackend: backend,
    executionProvider,
    bestEpoch: state.bestEpoch,
    valAccuracy: best?.valAccuracy,
    stop,
    history: state.history,
    skipped,
    duplicates: duplicates.map((d) => d.files.map((f) => ({ file: f.file, label: dataset.labels[f.label] }))),
    onnx,
    data: { augment: data.augment, batchSize: data.batchSize },
    classCounts: dataset.labels.map((label, c) => ({ label, train: trainCounts[c], validation: valCounts[c] })),
    validation,
    versions: runtimeVersions(),
    report: path.join(options.out, MODEL_FILES.report),
    seconds: { features: featureSeconds, head: headSeconds, export: (Date.now() - exportStarted) / 1000, total: (Date.now() - started) / 1000 },
  };
  const record: TrainingRecord = { config: options, spec, result };
  await writeJsonAtomic(path.join(options.out, MODEL_FILES.record), record);
  await rm(checkpointFile, { force: true });
  await removeRunFile(options.out);
  return result;
}
