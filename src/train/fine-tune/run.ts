import { createHash } from 'node:crypto';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { defaultFeatureLayers, loadTf, saveTfjsModel, type Tf } from '../../backbone/index.ts';
import { convertModelDir, exportLayersModel } from '../../convert/index.ts';
import { defaultPreprocess, MODEL_FILES, openSession } from '../../core/index.ts';
import type { Sample } from '../../data/index.ts';
import { trainingData } from '../training-data.ts';
import { runtimeVersions, writeJsonAtomic } from '../../node/index.ts';
import { assembleClassifier, classifierSpec } from '../assemble.ts';
import { removeDerivedModels } from '../derived-models.ts';
import type { TrainEvents } from '../events.ts';
import type { FeatureSet } from '../extract.ts';
import { balancedClassWeights, HEAD_DENSE, trainHead, type HeadConfig } from '../head.ts';
import type { TrainingRecord, TrainResult } from '../index.ts';
import { checkTrainOptions, TrainError, type TrainOptions } from '../options.ts';
import { validatePhotos } from '../validation.ts';
import { clearCache, extractActivations, readCache, writeCacheIndex, ACTIVATION_FORMAT, type ActivationSet } from './activations.ts';
import { GroupedAdam } from './adam.ts';
import { loadBackbone } from './backbone.ts';
import { describeStop, type StopReason } from '../stop.ts';
import { readCheckpoint, readCheckpointTensors, removeCheckpoint, writeFineTuneCheckpoint, writeWarmUpCheckpoint, type CheckpointState } from './checkpoint.ts';
import { makeNetwork, poolSet, trainableVariables } from './network.ts';
import { fineTuneLoop } from './schedule.ts';
import { resolveFineTune, type FineTuneSettings } from './settings.ts';
import { buildFrozenModel, buildTrainablePart, copyIntoBase, splitBackbone, type BackboneSplit } from './split.ts';
import { settingsForData } from '../small-data.ts';

/** The activation cache's folder in the model directory. */
export const ACTIVATION_CACHE_DIR = 'cache-fine-tune';

/** What a fine-tuning run adds to TrainResult (training.json's result.fineTune). */
export interface FineTuneSummary {
  settings: FineTuneSettings;
  /** The cut: the layer whose output is cached, its shape, and the layers that trained. */
  cut: { layer: string; shape: number[]; trainableLayers: string[]; trainableWeights: number };
  inputSize: number;
  /** The head trained on frozen features first (its best epoch is what fine-tuning starts from). */
  warmUp: { epochs: number; bestEpoch: number; valAccuracy?: number };
  /** The warm-up head on the pretrained blocks through the cached (float16) activations, scored as each fine-tuning epoch is. */
  baseline?: { valLoss: number; valAccuracy: number };
  /** Fine-tuning epochs run, and the best one (restored), counted from 1 after the warm-up. */
  epochs: number;
  bestEpoch: number;
  cache: { dir: string; format: string; reused: boolean };
  seconds: { activations: number; warmUp: number; fineTune: number };
}

export type FineTuneResult = TrainResult & { fineTune: FineTuneSummary };

/** Whether `train()` should hand over: --fine-tune was given, or --resume names a fine-tuning run's folder. */
export async function fineTuneRequested(options: TrainOptions): Promise<boolean> {
  return options.fineTune !== undefined || (options.resume && (await readCheckpoint(options.out)) !== undefined);
}

function hashKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

const sampleList = (samples: Sample[]) => samples.map((s) => [s.file, s.label]);

/** On --resume, the interrupted run's own options win (as for the head trainer's checkpoint), and any difference is said. */
async function resumeOptions(options: TrainOptions, log: (line: string) => void): Promise<{ options: TrainOptions; checkpoint?: CheckpointState }> {
  if (!options.resume) return { options };
  const checkpoint = await readCheckpoint(options.out);
  if (!checkpoint) {
    log(`resume: no fine-tuning checkpoint in ${options.out}, starting from scratch`);
    return { options };
  }
  const stored: TrainOptions = { ...checkpoint.options, out: options.out, resume: true };
  const changed = (Object.keys({ ...stored, ...options }) as (keyof TrainOptions)[]).filter(
    (k) => options[k] !== undefined && JSON.stringify(options[k]) !== JSON.stringify(stored[k]),
  );
  if (changed.length > 0) log(`resume: continuing with the interrupted run's own settings, which differ from these in: ${changed.join(', ')}`);
  return { options: stored, checkpoint };
}

async function activationSets(
  tf: Tf,
  base: tfjs.LayersModel,
  split: BackboneSplit,
  samples: { train: Sample[]; val: Sample[] },
  context: { options: TrainOptions; views: number; key: string; preprocess: ReturnType<typeof defaultPreprocess>; events: TrainEvents; log: (line: string) => void },
): Promise<{ sets: Record<string, ActivationSet>; reused: boolean; executionProvider: string; failures: { file: string; reason: string }[] }> {
  const { options, views, key, preprocess, events, log } = context;
  const dir = path.join(options.out, ACTIVATION_CACHE_DIR);
  const cached = await readCache(dir, key);
  if (cached) {
    log(`activations: reusing ${dir}`);
    return { sets: cached, reused: true, executionProvider: 'cache', failures: [] };
  }
  await clearCache(dir);
  const session = await openSession(exportLayersModel(buildFrozenModel(tf, base, split)), { ep: options.ep, log });
  const activationSize = split.cutShape.reduce((a, b) => a * b, 1);
  const total = samples.train.length + samples.val.length;
  try {
    const train = await extractActivations(session, samples.train, preprocess, { dir, name: 'train', activationSize, views, seed: options.seed }, (done) => events.progress?.('activations', done, total));
    const val = await extractActivations(session, samples.val, preprocess, { dir, name: 'val', activationSize, views: 1, seed: options.seed }, (done) => events.progress?.('activations', samples.train.length + done, total));
    const failures = [...train.failures, ...val.failures];
    if (failures.length > options.maxBadFraction * total) {
      throw new TrainError(`${failures.length} of ${total} images could not be read (limit ${Math.round(options.maxBadFraction * 100)}%); first: ${failures[0]?.file}: ${failures[0]?.reason}`);
    }
    if (failures.length > 0) log(`skipped ${failures.length} unreadable image(s); first: ${failures[0]?.file}: ${failures[0]?.reason}`);
    const sets = { train: train.set, val: val.set };
    await writeCacheIndex(dir, key, sets);
    return { sets, reused: false, executionProvider: session.executionProvider, failures };
  } finally {
    await session.release();
  }
}

/**
 * `footwear train --fine-tune [BLOCK]`: the same dataset handling, outputs and record as train(),
 * with a backbone whose blocks from BLOCK up to the feature layers are trained:
 * 1. the frozen part below BLOCK runs once per photo in ONNX Runtime; its cut activations
 *    (float16) and pooled features are cached on disk (activations.ts);
 * 2. warm-up: the head trains on the frozen pooled features with the head trainer (head.ts);
 * 3. fine-tuning: the unfrozen blocks and the head train on the cached activations, the blocks at
 *    a lower learning rate (adam.ts), batch normalisation in inference mode (network.ts), with a
 *    checkpoint after every epoch and early stopping that restores the best (schedule.ts);
 * 4. the tuned blocks are copied into the backbone, the classifier assembled, saved as TF.js and
 *    exported to ONNX, which must match TF.js within 1e-4.
 */
export async function trainFineTuned(requested: TrainOptions, events: TrainEvents = {}): Promise<FineTuneResult> {
  const started = Date.now();
  const log = events.log ?? (() => {});
  const { options, checkpoint: previous } = await resumeOptions(requested, log);
  checkTrainOptions(options);
  const settings = resolveFineTune(options.fineTune ?? { from: '' });
  const { dataset, trainSamples, valSamples, duplicates } = await trainingData(options, log);
  const data = settingsForData(options, trainSamples, dataset.labels);
  if (data.note) log(data.note);

  const { tf, backend, canTrainConvolutions } = await loadTf();
  if (!canTrainConvolutions) throw new TrainError(`--fine-tune needs a TF.js backend that trains convolutions; ${backend} does not`);
  log(`TF.js backend: ${backend}`);
  const base = await loadBackbone(tf, options);
  const featureLayers = options.featureLayers ?? defaultFeatureLayers(base, options.backbone);
  const split = splitBackbone(base, featureLayers, settings.from);
  const inputSize = base.inputs[0].shape[1] ?? 224;
  const preprocess = defaultPreprocess({ range: options.range, height: inputSize, width: base.inputs[0].shape[2] ?? 224 });
  const config: HeadConfig = { classes: dataset.labels.length, dropout: options.dropout, learningRate: options.learningRate, epochs: options.epochs, batchSize: data.batchSize, patience: options.patience, seed: options.seed };
  log(`fine-tuning from ${split.block}: ${split.trainable.length} layers above ${split.cutLayer} [${split.cutShape}] train; input ${preprocess.height}x${preprocess.width}`);

  // 1. Activations.
  const activationsStarted = Date.now();
  const cacheKey = hashKey({ format: ACTIVATION_FORMAT, backbone: options.backbone, preprocess, cut: split.cutLayer, features: featureLayers, views: data.augment, train: sampleList(trainSamples), val: sampleList(valSamples) });
  const samples = { train: trainSamples, val: valSamples };
  const extracted = await activationSets(tf, base, split, samples, { options, views: data.augment, key: cacheKey, preprocess, events, log });
  const { train: trainSet, val: valSet } = extracted.sets;
  const trainLabels = new Set(trainSet.features.labels);
  const lost = dataset.labels.filter((_, label) => !trainLabels.has(label));
  if (lost.length > 0) throw new TrainError(`no readable training images left in class folder(s): ${lost.join(', ')}`);
  const activationSeconds = (Date.now() - activationsStarted) / 1000;
  const val = valSet.size > 0 ? valSet : undefined;

  // The run's key: the data and every setting that changes what training does.
  const key = hashKey({ cacheKey, config, settings, block: split.block });
  const resume = previous?.key === key ? previous : undefined;
  if (options.resume && previous && !resume) log('resume: the checkpoint is from another dataset or settings; starting from scratch');
  const runState = { key, options: { ...options, resume: false } };

  // 2. Warm-up: the head on frozen pooled features (resumed, or restored when it had finished).
  const warmUpStarted = Date.now();
  const { model: head, state: warmUp, norm } = await trainHead(tf, [trainSet.features], val?.features, config, {
    epoch: (stats) => events.epoch?.(stats),
    checkpoint: (s) => writeWarmUpCheckpoint(options.out, { ...runState, warmUp: s }),
    resume: resume?.warmUp,
  });
  const warmUpSeconds = (Date.now() - warmUpStarted) / 1000;
  const warmUpBest = warmUp.history.find((h) => h.epoch === warmUp.bestEpoch);
  log(`warm-up: head best at epoch ${warmUp.bestEpoch}${warmUpBest?.valAccuracy !== undefined ? `, validation accuracy ${(warmUpBest.valAccuracy * 100).toFixed(2)}%` : ''}; fine-tuning ${split.block} and up at learning rate ${settings.learningRate}, head ${settings.headLearningRate}`);

  // 3. Fine-tuning.
  const fineTuneStarted = Date.now();
  const part = await buildTrainablePart(tf, base, split);
  const dense = head.getLayer(HEAD_DENSE);
  const net = makeNetwork(tf, split, part, dense, norm, options.dropout, dataset.labels.length);
  const variables = trainableVariables(net);
  const adam = new GroupedAdam(tf, [
    { learningRate: settings.learningRate, variables: variables.backbone },
    { learningRate: settings.headLearningRate, variables: variables.head },
  ]);
  let resumeLoop;
  if (resume?.phase === 'fine-tune' && resume.fineTune) {
    const tensors = await readCheckpointTensors(options.out, resume);
    resumeLoop = { progress: resume.fineTune, ...tensors };
    log(`resume: fine-tuning continues after epoch ${warmUp.history.length + resume.fineTune.epoch}`);
  }
  const epochOffset = warmUp.history.length;
  const { progress } = await fineTuneLoop(
    tf,
    { net, adam, train: trainSet, val, settings, seed: options.seed, classWeights: balancedClassWeights(trainSet.features.labels, config.classes), epochOffset, resume: resumeLoop },
    {
      epoch: (stats) => events.epoch?.(stats),
      progress: events.progress,
      checkpoint: (p, tensors) => writeFineTuneCheckpoint(options.out, { ...runState, warmUp }, p, tensors),
    },
  );
  adam.dispose();
  const fineTuneSeconds = (Date.now() - fineTuneStarted) / 1000;

  // 4. The classifier: frozen part + tuned blocks + head, saved and exported.
  copyIntoBase(base, part);
  const tunedVal: FeatureSet | undefined = val && { ...val.features, features: await poolSet(tf, net, val), dim: norm.mean.length };
  const classifier = assembleClassifier(tf, base, featureLayers, head, norm, config);
  const spec = classifierSpec(dataset.labels, preprocess, { name: `${options.backbone} (fine-tuned from ${split.block})`, cut: featureLayers.join('+') });
  await saveTfjsModel(classifier, path.join(options.out, MODEL_FILES.tfjs), { spec });
  const validation = tunedVal ? validatePhotos(tf, head, tunedVal, norm, dataset.labels) : undefined;

  const history = [...warmUp.history, ...progress.history];
  const bestEpoch = epochOffset + progress.bestEpoch;
  const best = progress.history[progress.bestEpoch - 1];
  const perClass = (labels: Int32Array) => dataset.labels.map((_, c) => labels.reduce((n, l) => n + (l === c ? 1 : 0), 0));
  // The train set holds one record per view of each photo; counts are of photos.
  const trainCounts = perClass(trainSet.features.labels).map((n) => n / data.augment);
  const valCounts = perClass(valSet.features.labels);

  const exportStarted = Date.now();
  let onnx: TrainResult['onnx'];
  if (options.export) {
    const converted = await convertModelDir(options.out, { verify: true, verifyFiles: valSet.features.files.slice(0, 4) });
    onnx = { path: converted.path, maxAbsDiff: converted.verification?.maxAbsDiff ?? NaN };
    await removeDerivedModels(options.out, log);
  }
  // Early stopping of the fine-tuning phase decides when the run ended (the warm-up ran before it).
  const stop: StopReason = {
    reason: progress.history.length < settings.epochs ? 'patience' : 'epochs',
    lastEpoch: epochOffset + progress.history.length,
    bestEpoch,
    monitored: 'validation loss',
  };
  // Said in fine-tuning epochs, against the flags that set them (the warm-up had its own line).
  const fineTuneStop = { ...stop, lastEpoch: progress.history.length, bestEpoch: progress.bestEpoch };
  log(`fine-tuning: ${describeStop(fineTuneStop, settings, { epochs: '--fine-tune-epochs', patience: '--fine-tune-patience' })}`);
  const result: FineTuneResult = {
    stop,
    modelDir: options.out,
    labels: dataset.labels,
    tfBackend: backend,
    executionProvider: extracted.executionProvider,
    bestEpoch,
    valAccuracy: best?.valAccuracy,
    history,
    skipped: [...dataset.skipped, ...extracted.failures],
    duplicates: duplicates.map((d) => d.files.map((f) => ({ file: f.file, label: dataset.labels[f.label] }))),
    onnx,
    data: { augment: data.augment, batchSize: data.batchSize },
    classCounts: dataset.labels.map((label, c) => ({ label, train: trainCounts[c], validation: valCounts[c] })),
    validation,
    versions: runtimeVersions(),
    report: path.join(options.out, MODEL_FILES.report),
    seconds: { features: activationSeconds, head: warmUpSeconds + fineTuneSeconds, export: (Date.now() - exportStarted) / 1000, total: (Date.now() - started) / 1000 },
    fineTune: {
      settings,
      cut: { layer: split.cutLayer, shape: split.cutShape, trainableLayers: split.trainable, trainableWeights: variables.backbone.reduce((n, v) => n + v.size, 0) },
      inputSize,
      warmUp: { epochs: warmUp.history.length, bestEpoch: warmUp.bestEpoch, valAccuracy: warmUpBest?.valAccuracy },
      baseline: progress.baseline && { valLoss: progress.baseline.loss, valAccuracy: progress.baseline.accuracy },
      epochs: progress.epoch,
      bestEpoch: progress.bestEpoch,
      cache: { dir: path.join(options.out, ACTIVATION_CACHE_DIR), format: ACTIVATION_FORMAT, reused: extracted.reused },
      seconds: { activations: activationSeconds, warmUp: warmUpSeconds, fineTune: fineTuneSeconds },
    },
  };
  const record: TrainingRecord = { config: options, spec, result };
  await writeJsonAtomic(path.join(options.out, MODEL_FILES.record), record);
  await removeCheckpoint(options.out);
  return result;
}
