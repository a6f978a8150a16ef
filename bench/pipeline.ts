// The end-to-end benchmark: `footwear train` with default settings on a folder-per-class training
// set, `footwear eval` on its test sibling, and ONNX-vs-TF.js label agreement on every test image.
// Usage: npm run bench -- [dataRoot ...]   (default: the two shared sets)
// Writes one "## Pipeline: <set>" section per set into BENCHMARKS.md.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { loadBaseModel, loadTf, MOBILENET_FEATURES } from '../src/backbone/index.ts';
import { discoverDataset } from '../src/data/index.ts';
import { imageToInput } from '../src/node/index.ts';
import { evaluate } from '../src/eval/index.ts';
import { loadModel } from '../src/node/index.ts';
import { MODEL_FILES } from '../src/core/index.ts';
import { defaultTrainOptions, train } from '../src/train/index.ts';
import { machine, writeSection } from './sections.ts';

const SHARED = path.resolve(import.meta.dirname, '../../shared/data');
const roots = process.argv.slice(2).length ? process.argv.slice(2) : [path.join(SHARED, 'shoe-sandal-boot'), path.join(SHARED, 'fashion-mnist-footwear')];

/** Top labels of the TF.js model for every file: the reference the ONNX export must reproduce. */
async function tfjsLabels(modelDir: string, files: string[]): Promise<number[]> {
  const { tf } = await loadTf();
  const model = await loadBaseModel(tf, path.join(modelDir, MODEL_FILES.tfjs));
  const classifier = await loadModel(modelDir);
  const spec = classifier.spec.preprocess;
  const out: number[] = [];
  for (let i = 0; i < files.length; i += 16) {
    const inputs = await Promise.all(files.slice(i, i + 16).map(async (f) => imageToInput(await readFile(f), f, spec)));
    const batch = new Float32Array(inputs.length * inputs[0].length);
    inputs.forEach((x, j) => batch.set(x, j * x.length));
    const labels = tf.tidy(() => (model.predict(tf.tensor4d(batch, [inputs.length, spec.height, spec.width, 3])) as tfjs.Tensor).argMax(1).dataSync());
    out.push(...labels);
  }
  return out;
}

for (const root of roots) {
  const name = path.basename(root);
  const out = path.join(os.tmpdir(), 'footwear-bench', name);
  const command = `npx footwear train --data ${path.relative(process.cwd(), path.join(root, 'train'))} --out ${out}`;
  console.error(`# ${command}`);
  const trained = await train(defaultTrainOptions(path.join(root, 'train'), out), { log: (l) => console.error(l), epoch: (s) => console.error(`epoch ${s.epoch} val acc ${s.valAccuracy?.toFixed(4)}`) });
  const classifier = await loadModel(out);
  const report = await evaluate(classifier, path.join(root, 'test'));
  const testSet = await discoverDataset(path.join(root, 'test'));
  const files = testSet.samples.map((s) => s.file);
  const onnxLabels = new Map<string, string>();
  for await (const r of classifier.classifyFiles(files)) if ('label' in r) onnxLabels.set(r.file, r.label);
  const tfLabels = await tfjsLabels(out, files);
  const agree = files.filter((f, i) => onnxLabels.get(f) === classifier.labels[tfLabels[i]]).length;
  const t = trained.seconds;
  const body = [
    `Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}. TF.js backend: ${trained.tfBackend}; ONNX Runtime EP: ${classifier.executionProvider}.`,
    '',
    `Commands: \`${command}\` then \`npx footwear eval --model ${out} --data ${path.relative(process.cwd(), path.join(root, 'test'))}\` (reproduce all with \`npm run bench\`).`,
    '',
    '| what | value |',
    '| --- | --- |',
    `| training images | ${(await discoverDataset(path.join(root, 'train'))).samples.length} (${defaultTrainOptions('', '').valSplit * 100}% held out for validation) |`,
    `| feature layers, input range | ${MOBILENET_FEATURES.layers.join(' + ')}, [${defaultTrainOptions('', '').range.join(', ')}] |`,
    `| best epoch / epochs run | ${trained.bestEpoch} / ${trained.history.length} |`,
    `| validation accuracy | ${((trained.valAccuracy ?? 0) * 100).toFixed(2)}% |`,
    `| **test accuracy** (${report.n} images) | **${(report.accuracy * 100).toFixed(2)}%** |`,
    `| macro F1 | ${(report.macroF1 * 100).toFixed(2)}% |`,
    `| ONNX vs TF.js: same top label | ${agree} / ${files.length} |`,
    `| ONNX vs TF.js: max abs diff of probabilities (export check) | ${trained.onnx?.maxAbsDiff.toExponential(2)} |`,
    `| train wall time: features / head / export / total | ${t.features.toFixed(0)} s / ${t.head.toFixed(0)} s / ${t.export.toFixed(0)} s / ${t.total.toFixed(0)} s |`,
    `| eval wall time | ${report.seconds.toFixed(0)} s |`,
    '',
    `Confusion (rows = truth; ${report.labels.join(', ')}): ${report.confusion.map((r) => `[${r.join(', ')}]`).join(' ')}`,
  ].join('\n');
  await writeSection(`## Pipeline: ${name}`, body);
  console.error(body);
}
