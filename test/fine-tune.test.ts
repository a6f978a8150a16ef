import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type * as tfjs from '@tensorflow/tfjs';
import yargs from 'yargs';
import { atInputSize, loadBaseModel, loadTf, MOBILENET_FEATURES } from '../src/backbone/index.ts';
import { buildTrainOptions, trainOptions, type TrainArgs } from '../src/cli/commands/train.ts';
import { verifyAgainstTfjs } from '../src/convert/index.ts';
import { imageToInput, loadModel } from '../src/node/index.ts';
import { writeTrainReport } from '../src/report/index.ts';
import { defaultTrainOptions, train, type FineTuneResult, type TrainOptions } from '../src/train/index.ts';
import { ACTIVATION_CACHE_DIR } from '../src/train/fine-tune/index.ts';
import { GroupedAdam } from '../src/train/fine-tune/adam.ts';
import { makeNetwork, trainableVariables, trainStep } from '../src/train/fine-tune/network.ts';
import { buildTrainablePart, splitBackbone } from '../src/train/fine-tune/split.ts';
import { FASHION, firstFiles, SHARED_MISSING, SHOES, subsetDataset } from '../fixtures/shared-data.ts';

// Fine-tuning end to end on real catalogue photos at 160x160 (10x10 maps at the cut, ~235 ms a
// step of blocks 13-14 at batch 32 on wasm), small subsets so the file runs in about two minutes.

const { tf } = await loadTf();
const SIZE = 160;
const CHILD = path.resolve(fileURLToPath(import.meta.url), '../support/train-child.ts');

/** The pretrained backbone at the test's input size. */
async function pretrained(): Promise<tfjs.LayersModel> {
  return atInputSize(tf, await loadBaseModel(tf, 'mobilenet'), SIZE, MOBILENET_FEATURES.layers);
}

function maxAbsDiff(a: tfjs.Tensor, b: tfjs.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  assert.equal(x.length, y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

/** BatchNormalization's weights are [gamma, beta, moving mean, moving variance]. */
const BN_MOVING = { mean: 2, variance: 3 } as const;
/** Of the first 10 test photos of each Fashion-MNIST class, the fine-tuned model below gets 25 on wasm; chance is 10. */
const CORRECT_FASHION = 22;

describe('the split and the network', { skip: SHARED_MISSING }, () => {
  it('GroupedAdam steps as tf.train.adam does, each group at its own learning rate', () => {
    const start = [Float32Array.from([0.5, -1.5, 2]), Float32Array.from([3, -0.25])];
    const target = (i: number) => tf.tensor(start[i].map((_, j) => j - 1));
    const run = (update: (vars: tfjs.Variable[], grads: tfjs.Tensor[]) => void): Float32Array[] => {
      const vars = start.map((v) => tf.variable(tf.tensor(v)));
      for (let step = 0; step < 5; step++) {
        const { grads } = tf.variableGrads(() => tf.addN(vars.map((v, i) => tf.sum(tf.square(tf.sub(v, target(i)))))) as tfjs.Scalar, vars);
        update(vars, vars.map((v) => grads[v.name]));
      }
      return vars.map((v) => v.dataSync() as Float32Array);
    };
    const rates = [1e-2, 1e-3];
    let grouped: GroupedAdam | undefined;
    const ours = run((vars, grads) => {
      grouped ??= new GroupedAdam(tf, [{ learningRate: rates[0], variables: [vars[0]] }, { learningRate: rates[1], variables: [vars[1]] }]);
      grouped.apply(grads);
    });
    const optimizers = rates.map((r) => tf.train.adam(r));
    const reference = run((vars, grads) => vars.forEach((v, i) => optimizers[i].applyGradients([{ name: v.name, tensor: grads[i] }])));
    ours.forEach((values, i) => values.forEach((v, j) => assert.ok(Math.abs(v - reference[i][j]) <= 1e-6, `group ${i}, value ${j}: ${v} vs ${reference[i][j]}`)));
    assert.ok(Math.abs(ours[1][0] - start[1][0]) < Math.abs(ours[0][0] - start[0][0]), 'the lower rate moved less');
  });
  it('cuts MobileNetV2 at a block input and names what cannot be cut', async () => {
    const base = await pretrained();
    const split = splitBackbone(base, MOBILENET_FEATURES.layers, 'block_13');
    assert.equal(split.cutLayer, 'block_12_add');
    assert.deepEqual(split.cutShape, [10, 10, 96]);
    assert.deepEqual(split.frozenFeatures, ['block_12_expand_relu'], 'block 12 stays below the cut: its pooled features are cached');
    assert.equal(split.trainable[0], 'block_13_expand');
    assert.equal(split.trainable.at(-1), 'block_14_expand_relu', 'nothing above the last feature layer trains');
    for (const size of [128, 192]) {
      const resized = await atInputSize(tf, base, size, MOBILENET_FEATURES.layers);
      assert.deepEqual(resized.getLayer('block_13_expand_relu').outputShape, [null, size / 16, size / 16, 576], `${size}: the same weights, maps of ${size / 16}`);
    }
    const full = await loadBaseModel(tf, 'mobilenet');
    assert.throws(() => splitBackbone(full, MOBILENET_FEATURES.layers, 'block_15'), /no feature layer .* is above its input, so nothing would train; start at or below the block of block_14_expand_relu/);
    assert.throws(() => splitBackbone(full, MOBILENET_FEATURES.layers, 'block_99'), /no block of that name; blocks: block_1, block_2, .*block_16$/);
    assert.equal(splitBackbone(full, ['out_relu'], 'block_16').cutLayer, 'block_15_add', 'other feature layers allow other blocks');
  });

  it('a step moves conv kernels and BN scales but never the BN moving statistics (TF.js trainable = false would not)', async () => {
    const base = await pretrained();
    const split = splitBackbone(base, MOBILENET_FEATURES.layers, 'block_13');
    const part = await buildTrainablePart(tf, base, split);
    const headInput = tf.input({ shape: [576 + 576 + 960] });
    const dense = tf.layers.dense({ units: 3, activation: 'softmax', name: 'head_dense' });
    tf.model({ inputs: headInput, outputs: dense.apply(headInput) as tfjs.SymbolicTensor });
    const dim = 576 + 576 + 960;
    const net = makeNetwork(tf, split, part, dense, { mean: new Float32Array(dim), std: new Float32Array(dim).fill(1) }, 0.2, 3);
    const { backbone, head } = trainableVariables(net);
    const adam = new GroupedAdam(tf, [
      { learningRate: 1e-3, variables: backbone },
      { learningRate: 1e-3, variables: head },
    ]);
    const random = (n: number, scale: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * scale);
    const batch = { count: 4, activations: random(4 * 10 * 10 * 96, 3), frozen: [random(4 * 576, 1)], labels: Int32Array.from([0, 1, 2, 0]) };
    const bn = part.layers.get('block_13_expand_BN') as tfjs.layers.Layer;
    const before = bn.getWeights().map((w) => w.clone());
    const kernel = (part.layers.get('block_13_expand') as tfjs.layers.Layer).getWeights()[0].clone();
    trainStep(tf, net, adam, batch, { 0: 1, 1: 1, 2: 1 }, 0);
    const tensors = tf.memory().numTensors;
    for (let step = 1; step < 3; step++) trainStep(tf, net, adam, batch, { 0: 1, 1: 1, 2: 1 }, step);
    assert.equal(tf.memory().numTensors, tensors, 'a step leaves no tensor behind');
    const after = bn.getWeights();
    assert.ok(maxAbsDiff((part.layers.get('block_13_expand') as tfjs.layers.Layer).getWeights()[0], kernel) > 0, 'the conv kernel moved');
    assert.ok(maxAbsDiff(after[0], before[0]) > 0, 'BN gamma trains');
    assert.equal(maxAbsDiff(after[BN_MOVING.mean], before[BN_MOVING.mean]), 0, 'moving mean unchanged');
    assert.equal(maxAbsDiff(after[BN_MOVING.variance], before[BN_MOVING.variance]), 0, 'moving variance unchanged');

    // Why the network is applied with training = false: in TF.js a BN layer marked untrainable
    // still normalises with batch statistics and updates its moving statistics under model.fit.
    const x = tf.input({ shape: [4, 4, 8] });
    const conv = tf.layers.conv2d({ filters: 8, kernelSize: 1, name: 'probe_conv' }).apply(x) as tfjs.SymbolicTensor;
    const probe = tf.layers.batchNormalization({ name: 'probe_bn' });
    const probeModel = tf.model({ inputs: x, outputs: probe.apply(conv) as tfjs.SymbolicTensor });
    probe.trainable = false;
    probeModel.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const moving = probe.getWeights()[BN_MOVING.mean].clone();
    await probeModel.fit(tf.randomNormal([8, 4, 4, 8], 5), tf.zeros([8, 4, 4, 8]), { epochs: 1, verbose: 0 });
    assert.ok(maxAbsDiff(probe.getWeights()[BN_MOVING.mean], moving) > 0, 'TF.js: trainable = false leaves BN in training mode under fit');
    adam.dispose();
  });
});

/** A real subset of the catalogue photos, small enough for a test; the same folder for every test that asks. */
async function shoes(perClass: number): Promise<string> {
  return subsetDataset(path.join(SHOES, 'train'), perClass, 'shoes-train');
}

const fineTuneOptions = (data: string, out: string): TrainOptions => ({
  ...defaultTrainOptions(data, out),
  inputSize: SIZE,
  valSplit: 0.2,
  fineTune: { from: 'block_13', epochs: 3, patience: 3 },
  // The settings these assertions were measured with: the photos alone, the head's batch of 64
  // (on 80 photos a class, 'auto' would pick 8 views and batch 8, a stronger warm-up head).
  augment: 1,
  batchSize: 64,
});

describe('footwear train --fine-tune', { skip: SHARED_MISSING }, () => {
  it('tunes the blocks from block_13, keeps BN statistics, beats or equals its warm-up head, and exports an ONNX model that matches TF.js', async () => {
    // Fashion-MNIST's 28x28 greyscale items are far from the photos the backbone was trained on,
    // so its frozen features leave room that tuning blocks 13-14 fills even on 100 photos a
    // class: with these settings (the default learning rates, 3 epochs) a fine-tuning epoch beat
    // the warm-up head on validation loss, and ended at least as accurate, for each of seeds 1,
    // 2, 3, 7 and 42 (the catalogue photos, where the frozen head is at 97% already, gave no
    // such margin at this size). The run is deterministic: the test takes seed 42.
    const data = await subsetDataset(path.join(FASHION, 'train'), 100, 'fashion-train');
    const out = await mkdtemp(path.join(os.tmpdir(), 'fw-fine-tune-'));
    const result = (await train(fineTuneOptions(data, out))) as FineTuneResult;
    const ft = result.fineTune;
    const best = result.history.find((h) => h.epoch === result.bestEpoch);
    assert.equal(result.bestEpoch, ft.warmUp.epochs + ft.bestEpoch, 'the history numbers fine-tuning epochs after the warm-up');
    assert.ok(best?.valLoss !== undefined && ft.baseline && best.valLoss < ft.baseline.valLoss, `the restored epoch's validation loss ${best?.valLoss} is below the warm-up head's ${ft.baseline?.valLoss}`);
    assert.ok((result.valAccuracy ?? 0) >= (ft.warmUp.valAccuracy ?? 1), `fine-tuned ${result.valAccuracy} >= warm-up ${ft.warmUp.valAccuracy}`);

    const tuned = await loadBaseModel(tf, path.join(out, 'tfjs'));
    const base = await pretrained();
    for (const layer of ['block_13_expand', 'block_13_depthwise', 'block_14_expand']) {
      assert.ok(maxAbsDiff(tuned.getLayer(layer).getWeights()[0], base.getLayer(layer).getWeights()[0]) > 1e-6, `${layer} kernel was tuned`);
    }
    assert.equal(maxAbsDiff(tuned.getLayer('block_12_expand').getWeights()[0], base.getLayer('block_12_expand').getWeights()[0]), 0, 'below the cut nothing changed');
    for (const layer of ['block_13_expand_BN', 'block_13_depthwise_BN', 'block_14_expand_BN']) {
      for (const [what, index] of Object.entries(BN_MOVING)) {
        assert.equal(maxAbsDiff(tuned.getLayer(layer).getWeights()[index], base.getLayer(layer).getWeights()[index]), 0, `${layer} moving ${what} unchanged`);
      }
    }

    assert.ok(result.onnx && result.onnx.maxAbsDiff <= 1e-4, `ONNX vs TF.js ${result.onnx?.maxAbsDiff} on random inputs and real photos`);
    const photos = await firstFiles(path.join(FASHION, 'test'), 10);
    const classifier = await loadModel(out);
    const inputs = await Promise.all(photos.filter((_, i) => i % 10 < 4).map(async (p) => imageToInput(await readFile(p.file), p.file, classifier.spec.preprocess)));
    const parity = await verifyAgainstTfjs(tuned, await readFile(path.join(out, 'model.onnx')), inputs);
    assert.ok(parity.maxAbsDiff <= 1e-4 && parity.sameArgmax === inputs.length, `ONNX vs TF.js on 4 test photos a class: ${JSON.stringify(parity)}`);
    assert.equal(classifier.spec.preprocess.height, SIZE);
    assert.match(classifier.spec.backbone?.name ?? '', /fine-tuned from block_13/);
    let correct = 0;
    for await (const r of classifier.classifyFiles(photos.map((p) => p.file))) {
      if ('label' in r && r.label === photos.find((p) => p.file === r.file)?.label) correct++;
    }
    assert.ok(correct >= CORRECT_FASHION, `${correct} of 30 test photos right`);
    await classifier.release();
    const report = await readFile(await writeTrainReport(out), 'utf8');
    assert.match(report, /data-card="fine-tune">block_13 and up \(310\u2009784 weights\) trained on cached block_12_add activations/);
  });

  it('a run killed after a fine-tuning checkpoint resumes with its own settings and ends exactly where an uninterrupted one does', async () => {
    const data = await shoes(40);
    const options = (out: string): TrainOptions => ({ ...fineTuneOptions(data, out), export: false });
    const fullDir = await mkdtemp(path.join(os.tmpdir(), 'fw-ft-full-'));
    const full = (await train(options(fullDir))) as FineTuneResult;
    assert.equal(full.fineTune.epochs, 3);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'fw-ft-resume-'));
    // The same photos and settings reuse the activations: copy them in, as a rerun would find them.
    await cp(path.join(fullDir, ACTIVATION_CACHE_DIR), path.join(dir, ACTIVATION_CACHE_DIR), { recursive: true });
    // Interrupt the hard way: SIGKILL the training process once a fine-tuning epoch is checkpointed.
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(options(dir))], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    const statePath = path.join(dir, 'checkpoint-fine-tune', 'state.json');
    const readState = () => readFile(statePath, 'utf8').then((t) => JSON.parse(t) as { phase: string; fineTune?: { epoch: number } }, () => undefined);
    while ((await readState())?.phase !== 'fine-tune') {
      assert.equal(child.exitCode, null, 'the run was still going when it was to be killed');
      await delay(20);
    }
    child.kill('SIGKILL');
    await exited;
    const state = await readState();
    assert.ok(state?.fineTune && state.fineTune.epoch >= 1 && state.fineTune.epoch < 3, `killed after fine-tuning epoch ${state?.fineTune?.epoch} of 3`);

    // Resume as `footwear train --resume DIR` does: no fine-tuning flags; the checkpoint has them.
    const lines: string[] = [];
    const resumed = (await train({ ...defaultTrainOptions(data, dir), resume: true }, { log: (l) => lines.push(l) })) as FineTuneResult;
    assert.ok(lines.some((l) => /activations: reusing/.test(l)));
    assert.ok(lines.some((l) => l.includes(`resume: fine-tuning continues after epoch ${full.fineTune.warmUp.epochs + (state?.fineTune?.epoch ?? 0)}`)), lines.join('\n'));
    assert.deepEqual(resumed.fineTune.settings, full.fineTune.settings);
    assert.deepEqual(
      resumed.history.map((h) => [h.epoch, h.loss, h.valLoss]),
      full.history.map((h) => [h.epoch, h.loss, h.valLoss]),
      'every epoch, before and after the interruption, as in the uninterrupted run',
    );
    assert.equal(resumed.bestEpoch, full.bestEpoch);
    const record = (d: string) => readFile(path.join(d, 'training.json'), 'utf8').then((t) => JSON.parse(t) as { config: TrainOptions });
    const [a, b] = [await record(fullDir), await record(dir)];
    assert.deepEqual({ ...b.config, out: '', resume: false }, { ...a.config, out: '', resume: false }, 'training.json records the same settings');
    const [wa, wb] = [await loadBaseModel(tf, path.join(fullDir, 'tfjs')), await loadBaseModel(tf, path.join(dir, 'tfjs'))];
    assert.equal(maxAbsDiff(wa.getLayer('block_13_project').getWeights()[0], wb.getLayer('block_13_project').getWeights()[0]), 0, 'the same tuned weights');
  });
});

describe('--input-size', { skip: SHARED_MISSING }, () => {
  it('160 gives a 160x160 spec and a model that loads and classifies real photos; the flags parse', async () => {
    const data = await shoes(40);
    const out = await mkdtemp(path.join(os.tmpdir(), 'fw-input-size-'));
    const result = await train({ ...defaultTrainOptions(data, out), inputSize: SIZE, epochs: 15 });
    assert.ok(result.onnx && result.onnx.maxAbsDiff <= 1e-4);
    const spec = (JSON.parse(await readFile(path.join(out, 'training.json'), 'utf8')) as { spec: { preprocess: { height: number; width: number } } }).spec;
    assert.deepEqual([spec.preprocess.height, spec.preprocess.width], [SIZE, SIZE]);
    const classifier = await loadModel(out);
    assert.deepEqual([classifier.spec.preprocess.height, classifier.spec.preprocess.width], [SIZE, SIZE]);
    const photos = await firstFiles(path.join(SHOES, 'test'), 10);
    let correct = 0;
    for await (const r of classifier.classifyFiles(photos.map((p) => p.file))) {
      if ('label' in r && r.label === photos.find((p) => p.file === r.file)?.label) correct++;
    }
    assert.ok(correct >= 24, `${correct} of 30 test photos right`);

    await assert.rejects(train({ ...defaultTrainOptions(data, out), inputSize: 150 }), /input size should be a multiple of 32/);
    const parse = (...argv: string[]) => buildTrainOptions(trainOptions(yargs(argv)).parseSync() as unknown as TrainArgs & { data: string });
    assert.deepEqual(parse('--data', 'd').fineTune, undefined, 'off unless asked');
    assert.equal(parse('--data', 'd', '--fine-tune').fineTune?.from, 'block_13', 'the bare flag takes the default block');
    const o = parse('--data', 'd', '--fine-tune', 'block_11', '--input-size', '192', '--fine-tune-lr', '3e-5');
    assert.deepEqual([o.fineTune?.from, o.inputSize, o.fineTune?.learningRate], ['block_11', 192, 3e-5]);
  });
});
