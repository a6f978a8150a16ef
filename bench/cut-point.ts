// Chooses the backbone cut point and input scaling by measurement: pooled features of several
// MobileNetV2 layers are extracted once through ONNX Runtime, then a softmax head (the trainer's
// own) is fitted per layer and per combination, and scored on a validation split of the
// training folder: choices are never tuned on the test folder.
// Usage: node --import tsx bench/cut-point.ts [trainDir] [perClassLimit] [ranges, e.g. '0,1;-1,1']
import { buildFeatureModel, loadBaseModel, loadTf } from '../src/backbone/index.ts';
import { exportLayersModel } from '../src/convert/index.ts';
import { discoverDataset, seededRandom, shuffle, stratifiedSplit, type Sample } from '../src/data/index.ts';
import { computeMetrics } from '../src/eval/index.ts';
import { openSession } from '../src/core/index.ts';
import { defaultPreprocess } from '../src/core/index.ts';
import { extractFeatures, type FeatureSet } from '../src/train/extract.ts';
import { trainHead } from '../src/train/head.ts';
import { machine, writeSection } from './sections.ts';

const root = process.argv[2] ?? '../shared/data/shoe-sandal-boot/train';
const limit = Number(process.argv[3] ?? Infinity);
const ranges: [number, number][] = (process.argv[4] ?? '0,1;-1,1').split(';').map((r) => r.split(',').map(Number) as [number, number]);
const LAYERS = (process.env.LAYERS ?? 'block_11_expand_relu,block_12_expand_relu,block_13_expand_relu,block_14_expand_relu,block_15_expand_relu,block_16_expand_relu,out_relu').split(',');
const COMBOS = [
  ...LAYERS.map((l) => [l]),
  ...(process.env.COMBOS ?? 'block_13_expand_relu+block_14_expand_relu;block_12_expand_relu+block_13_expand_relu+block_14_expand_relu;block_13_expand_relu+out_relu')
    .split(';')
    .map((c) => c.split('+')),
];

function take(samples: Sample[], classes: number): Sample[] {
  if (!Number.isFinite(limit)) return samples;
  const out: Sample[] = [];
  for (let c = 0; c < classes; c++) out.push(...shuffle(samples.filter((s) => s.label === c), seededRandom(1)).slice(0, limit));
  return out;
}

function columns(set: FeatureSet, offsets: number[], widths: number[], picks: number[]): FeatureSet {
  const dim = picks.reduce((a, p) => a + widths[p], 0);
  const n = set.labels.length;
  const features = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let o = 0;
    for (const p of picks) {
      features.set(set.features.subarray(i * set.dim + offsets[p], i * set.dim + offsets[p] + widths[p]), i * dim + o);
      o += widths[p];
    }
  }
  return { features, labels: set.labels, dim, files: set.files };
}

const { tf, backend } = await loadTf();
const base = await loadBaseModel(tf, 'mobilenet');
const widths = LAYERS.map((l) => base.getLayer(l).outputShape[3] as number);
const offsets = widths.map((_, i) => widths.slice(0, i).reduce((a, b) => a + b, 0));
const trainSet = await discoverDataset(root);
const split = stratifiedSplit(take(trainSet.samples, trainSet.labels.length), 0.2, 42);
const trainSamples = split.train;
const testSamples = split.val;
const testSet = trainSet;
console.log(`# ${root}: ${trainSamples.length} train, ${testSamples.length} validation; TF.js ${backend}`);
const rows: string[] = [];
const session = await openSession(exportLayersModel(buildFeatureModel(tf, base, LAYERS)), { ep: 'cpu' });
for (const range of ranges) {
  const spec = defaultPreprocess({ range });
  const t0 = Date.now();
  const tr = await extractFeatures(session, trainSamples, spec, { views: 1, seed: 0 });
  const te = await extractFeatures(session, testSamples, spec, { views: 1, seed: 0 });
  const seconds = (Date.now() - t0) / 1000;
  console.log(`range [${range}]: extracted ${trainSamples.length + testSamples.length} images in ${seconds.toFixed(0)}s (${((trainSamples.length + testSamples.length) / seconds).toFixed(0)} img/s)`);
  for (const picks of COMBOS.map((c) => c.map((l) => LAYERS.indexOf(l)))) {
    const train = columns(tr.views[0], offsets, widths, picks);
    const test = columns(te.views[0], offsets, widths, picks);
    const { model } = await trainHead(tf, [train], undefined, { classes: trainSet.labels.length, dropout: 0.2, learningRate: 1e-3, epochs: 15, batchSize: 64, patience: 100, seed: 1 }, {});
    const norm = (await import('../src/train/head.ts')).featureNorm(train.features, train.dim);
    const xs = test.features.map((v, i) => (v - norm.mean[i % train.dim]) / norm.std[i % train.dim]);
    const pred = tf.tidy(() => (model.predict(tf.tensor2d(xs, [test.labels.length, test.dim])) as import('@tensorflow/tfjs').Tensor).argMax(1).dataSync());
    const m = computeMetrics(testSet.labels, [...test.labels], [...pred]);
    console.log(`range [${range}] ${picks.map((p) => LAYERS[p]).join('+')} (${train.dim}-d): validation accuracy ${(m.accuracy * 100).toFixed(2)}%`);
    rows.push(`| ${picks.map((p) => `\`${LAYERS[p]}\``).join(' + ')} | [${range.join(', ')}] | ${train.dim} | ${(m.accuracy * 100).toFixed(2)}% |`);
  }
}
await session.release();
await writeSection(
  '## Choosing the cut point',
  [
    `Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}. Command: \`node --import tsx bench/cut-point.ts ${process.argv.slice(2).join(' ')}\`.`,
    '',
    `Pooled features of each layer, softmax head (15 epochs), ${trainSamples.length} training images, scored on ${testSamples.length} held out from the training folder (never the test folder).`,
    '',
    '| feature layers | input range | dim | validation accuracy |',
    '| --- | --- | ---: | ---: |',
    ...rows,
  ].join('\n'),
);
