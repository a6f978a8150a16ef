import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../src/node/index.ts';
import { defaultTrainOptions, describeStop, train, type EpochStats } from '../src/train/index.ts';
import { firstFiles, SHOES, subsetDataset } from '../fixtures/shared-data.ts';
import { loadBaseModel, loadTf, saveTfjsModel, truncate } from '../src/backbone/index.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

test('the trained model directory describes itself: ONNX with spec metadata, TF.js copy, training record', async () => {
  const dir = await trainedModel();
  const record = JSON.parse(await readFile(path.join(dir, 'training.json'), 'utf8')) as {
    spec: { labels: string[]; preprocess: { height: number } };
    result: { history: EpochStats[]; bestEpoch: number; onnx: { maxAbsDiff: number }; tfBackend: string };
  };
  assert.deepEqual(record.spec.labels, ['Boot', 'Sandal', 'Shoe']);
  assert.ok(record.result.history.length >= record.result.bestEpoch && record.result.bestEpoch >= 1);
  assert.ok(record.result.onnx.maxAbsDiff <= 1e-4, `ONNX vs TF.js ${record.result.onnx.maxAbsDiff}`);
  assert.ok(existsSync(path.join(dir, 'tfjs', 'model.json')) && existsSync(path.join(dir, 'tfjs', 'weights.bin')));
  assert.ok(!existsSync(path.join(dir, 'checkpoint.json')), 'a finished run leaves no checkpoint');
  const classifier = await loadModel(path.join(dir, 'model.onnx'));
  assert.deepEqual(classifier.labels, ['Boot', 'Sandal', 'Shoe']);
  assert.equal(classifier.spec.preprocess.height, record.spec.preprocess.height);
});

test('early stopping restores the best epoch, and a run interrupted mid-way resumes to the same end', async () => {
  const data = await subsetDataset(path.join(SHOES, 'train'), 20, 'shoes-train');
  const base = { ...defaultTrainOptions(data, ''), epochs: 12, patience: 3, export: false, learningRate: 3e-3 };

  const fullDir = await mkdtemp(path.join(os.tmpdir(), 'fw-full-'));
  const full = await train({ ...base, out: fullDir });
  const best = full.history.reduce((a, b) => ((b.valLoss ?? Infinity) < (a.valLoss ?? Infinity) ? b : a));
  assert.equal(full.bestEpoch, best.epoch, 'the epoch with the lowest validation loss is the one kept');
  assert.equal(full.valAccuracy, best.valAccuracy);
  if (full.history.length < base.epochs) assert.equal(full.history.length, full.bestEpoch + base.patience, 'stops after `patience` epochs without improvement');

  // Interrupt as epoch 3 is reported, as a crash would (its checkpoint is on disk), then resume.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fw-resume-'));
  await assert.rejects(
    train({ ...base, out: dir }, {
      epoch: (s) => {
        if (s.epoch === 3) throw new Error('simulated crash');
      },
    }),
    /simulated crash/,
  );
  const checkpoint = JSON.parse(await readFile(path.join(dir, 'checkpoint.json'), 'utf8')) as { state: { epoch: number } };
  assert.equal(checkpoint.state.epoch, 3, 'an epoch is checkpointed before it is reported');
  const resumed = await train({ ...base, out: dir, resume: true });
  assert.deepEqual(resumed.history.slice(0, 3).map((h) => h.loss), full.history.slice(0, 3).map((h) => h.loss), 'the first epochs come from the checkpoint');
  assert.ok(resumed.history.length >= 4 && resumed.history[3].epoch === 4, 'training continued at epoch 4');
  assert.ok(Math.abs((resumed.valAccuracy ?? 0) - (full.valAccuracy ?? 0)) <= 0.1, `resumed ${resumed.valAccuracy} vs uninterrupted ${full.valAccuracy}`);
});

test('--backbone takes another TF.js LayersModel: its last feature map feeds the head', async () => {
  const { tf } = await loadTf();
  const backboneDir = await mkdtemp(path.join(os.tmpdir(), 'fw-backbone-'));
  await saveTfjsModel(truncate(tf, await loadBaseModel(tf, 'mobilenet'), 'block_5_add'), backboneDir, {});
  const data = await subsetDataset(path.join(SHOES, 'train'), 20, 'shoes-train');
  const out = await mkdtemp(path.join(os.tmpdir(), 'fw-other-backbone-'));
  const result = await train({ ...defaultTrainOptions(data, out), backbone: backboneDir, epochs: 5 });
  const record = JSON.parse(await readFile(path.join(out, 'training.json'), 'utf8')) as { spec: { backbone: { name: string; cut: string } } };
  assert.deepEqual(record.spec.backbone, { name: backboneDir, cut: 'block_5_add' });
  assert.ok((result.onnx?.maxAbsDiff ?? 1) <= 1e-4);
  const classifier = await loadModel(out);
  const [photo] = await firstFiles(path.join(SHOES, 'test'), 1);
  for await (const r of classifier.classifyFiles([photo.file])) assert.ok('label' in r && classifier.labels.includes(r.label), JSON.stringify(r));
});

test('a photo filed under two classes is reported as a duplicate, and training still runs', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fw-dupes-'));
  const source = await subsetDataset(path.join(SHOES, 'train'), 8, 'shoes-train');
  const lines: string[] = [];
  for (const label of ['Boot', 'Sandal', 'Shoe']) {
    await mkdir(path.join(root, label));
    for (const name of await readdir(path.join(source, label))) await copyFile(path.join(source, label, name), path.join(root, label, name));
  }
  const boot = (await readdir(path.join(root, 'Boot')))[0];
  await copyFile(path.join(root, 'Boot', boot), path.join(root, 'Shoe', 'copy of a boot.jpg'));
  const result = await train({ ...defaultTrainOptions(root, path.join(root, 'model')), epochs: 2, export: false }, { log: (l) => lines.push(l) });
  assert.equal(result.duplicates.length, 1);
  assert.deepEqual(result.duplicates[0].map((d) => d.label).sort(), ['Boot', 'Shoe']);
  assert.ok(lines.some((l) => /warning: 1 image\(s\) appear under more than one class/.test(l) && l.includes('copy of a boot.jpg')));
});

test('training says why it stopped: early stopping, or a best epoch that is the last one allowed', async () => {
  const data = await subsetDataset(path.join(SHOES, 'train'), 20, 'shoes-train');
  const base = { ...defaultTrainOptions(data, ''), export: false };

  // A high learning rate and --patience 1: the validation loss cannot fall 200 epochs in a row.
  const early: string[] = [];
  const stopped = await train({ ...base, out: await mkdtemp(path.join(os.tmpdir(), 'fw-early-')), epochs: 200, patience: 1, learningRate: 3e-2 }, { log: (l) => early.push(l) });
  assert.equal(stopped.stop.reason, 'patience');
  assert.equal(stopped.history.length, stopped.bestEpoch + 1);
  assert.ok(
    early.includes(`early stopping after epoch ${stopped.bestEpoch + 1} of 200: no better validation loss than epoch ${stopped.bestEpoch}'s for 1 epochs (--patience 1); kept epoch ${stopped.bestEpoch}`),
    early.join('\n'),
  );

  // One epoch allowed: the best is necessarily the last, and more epochs might help.
  const last: string[] = [];
  await train({ ...base, out: await mkdtemp(path.join(os.tmpdir(), 'fw-last-')), epochs: 1 }, { log: (l) => last.push(l) });
  assert.ok(last.includes('note: the best epoch was the last one allowed (--epochs 1) and the validation loss was still falling; a higher --epochs may give a better model'), last.join('\n'));

  await assert.rejects(train({ ...base, out: await mkdtemp(path.join(os.tmpdir(), 'fw-p0-')), patience: 0 }), { name: 'TrainError', message: '--patience should be a positive integer, got 0' });
});

test('describeStop names each ending and what to change', () => {
  const o = { epochs: 40, patience: 6 };
  assert.equal(
    describeStop({ reason: 'patience', lastEpoch: 17, bestEpoch: 11, monitored: 'validation loss' }, o),
    "early stopping after epoch 17 of 40: no better validation loss than epoch 11's for 6 epochs (--patience 6); kept epoch 11",
  );
  assert.equal(
    describeStop({ reason: 'epochs', lastEpoch: 40, bestEpoch: 40, monitored: 'training loss' }, o),
    'note: the best epoch was the last one allowed (--epochs 40) and the training loss was still falling; a higher --epochs may give a better model',
  );
  assert.equal(describeStop({ reason: 'epochs', lastEpoch: 40, bestEpoch: 37, monitored: 'validation loss' }, o), 'ran all 40 epochs; kept epoch 37, the lowest validation loss');
});
