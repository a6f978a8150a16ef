import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SHOES, subsetDataset } from '../fixtures/shared-data.ts';

// Ctrl-C in the middle of a run, twice, then `train --resume DIR` alone: the real CLI in a child
// process, interrupted when its own output shows it has reached a stage (never after a delay).

const BIN = path.resolve(fileURLToPath(import.meta.url), '../../bin/footwear.js');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the CLI; sends SIGINT once a line of its stderr satisfies `interruptAt` (if given). */
function footwear(args: string[], interruptAt?: (line: string) => boolean): Promise<Run & { interrupted: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let interrupted = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr += text;
      if (interruptAt && !interrupted && stderr.split('\n').some(interruptAt)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr, interrupted }));
  });
}

/** "features: 288/900 (32%), ..." -> 288 */
const featuresDone = (line: string) => Number(line.match(/^features: (\d+)\/\d+/)?.[1] ?? -1);

test('an interrupted run keeps its settings, features and epochs; --resume DIR alone continues it; a conflicting flag is refused by name', async () => {
  // 300 photos per class: 810 to train on, 90 to validate, so extraction spans several saved chunks.
  const data = await subsetDataset(path.join(SHOES, 'train'), 300, 'shoes-train');
  const out = path.join(await mkdtemp(path.join(os.tmpdir(), 'fw-resume-cli-')), 'model');
  // Settings that differ from every default, so a resume that fell back to defaults would show.
  const settings = ['--epochs', '60', '--patience', '60', '--batch-size', '16', '--learning-rate', '0.002', '--seed', '7', '--no-export'];

  // 1. Ctrl-C during feature extraction, once the first chunk (256 images) is saved.
  const first = await footwear(['train', '--data', data, '--out', out, ...settings], (line) => featuresDone(line) >= 288);
  assert.ok(first.interrupted, first.stderr);
  assert.equal(first.code, 130, first.stderr);
  assert.match(first.stderr, new RegExp(`footwear: interrupted; ${out} keeps what was done: footwear train --resume ${out} continues\\n$`));
  const run = JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8')) as { settings: Record<string, unknown> };
  assert.equal(run.settings.data, data);
  assert.equal(run.settings.epochs, 60);
  assert.ok(!existsSync(path.join(out, 'cache', 'index.json')), 'extraction did not finish');
  const [partial] = (await readdir(path.join(out, 'cache'))).filter((f) => f.startsWith('partial-'));
  assert.ok((await readdir(path.join(out, 'cache', partial))).includes('train-00000.json'), 'the first chunk was saved');

  // 2. A flag that disagrees with the run is refused, naming it and the run's value.
  const conflict = await footwear(['train', '--resume', out, '--epochs', '9']);
  assert.equal(conflict.code, 1);
  assert.equal(conflict.stderr, `footwear: --epochs 9 conflicts with the run being resumed in ${out}, which was started with --epochs 60; drop --epochs to continue it, or start a new run with another --out\n`);
  const agreeing = ['--data', data, '--epochs', '60'];

  // 3. --resume alone (plus flags that agree) continues extraction; Ctrl-C again during the head.
  const second = await footwear(['train', '--resume', out, ...agreeing], (line) => /^epoch 2:/.test(line));
  assert.ok(second.interrupted, second.stderr);
  assert.equal(second.code, 130, second.stderr);
  const reused = Number(second.stderr.match(/^features: (\d+) of 900 images came from .*saved by an interrupted run$/m)?.[1]);
  assert.ok(reused >= 256, `reused saved chunks: ${second.stderr}`);
  assert.ok(existsSync(path.join(out, 'cache', 'index.json')), 'extraction finished');
  const checkpoint = JSON.parse(await readFile(path.join(out, 'checkpoint.json'), 'utf8')) as { state: { epoch: number } };
  assert.ok(checkpoint.state.epoch >= 2 && checkpoint.state.epoch < 60, `checkpoint at epoch ${checkpoint.state.epoch}`);

  // 4. --resume alone finishes the run with the settings it started with.
  const third = await footwear(['train', '--resume', out]);
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stderr, /^features: reusing /m);
  assert.match(third.stderr, new RegExp(`^resume: the head continues after epoch ${checkpoint.state.epoch} `, 'm'));
  assert.doesNotMatch(third.stderr, new RegExp(`^epoch ${checkpoint.state.epoch}:`, 'm'), 'finished epochs are not trained again');
  const record = JSON.parse(await readFile(path.join(out, 'training.json'), 'utf8')) as { config: Record<string, unknown>; result: { history: { epoch: number }[] } };
  assert.deepEqual(
    { epochs: record.config.epochs, patience: record.config.patience, batchSize: record.config.batchSize, learningRate: record.config.learningRate, seed: record.config.seed, export: record.config.export },
    { epochs: 60, patience: 60, batchSize: 16, learningRate: 0.002, seed: 7, export: false },
  );
  assert.deepEqual(
    record.result.history.map((h) => h.epoch),
    Array.from({ length: 60 }, (_, i) => i + 1),
    'every epoch once, up to --epochs 60 (patience 60 never stops it early)',
  );
  for (const left of ['run.json', 'checkpoint.json']) assert.ok(!existsSync(path.join(out, left)), `a finished run leaves no ${left}`);
  assert.deepEqual((await readdir(path.join(out, 'cache'))).filter((f) => f.startsWith('partial-')), [], 'saved chunks are folded into the cache');
});
