import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../node/index.ts';
import type { EpochStats } from '../events.ts';
import type { HeadState } from '../head.ts';
import type { TrainOptions } from '../options.ts';

// A fine-tuning run's checkpoint, written after every epoch of either phase, in its own folder of
// the model directory:
//   state.json   the run's key and options, the phase, the warm-up head's state (trainHead's own
//                checkpoint, small) and, in the fine-tuning phase, its epoch count, best epoch and
//                history, with the list of tensors in the binary file beside it;
//   epoch-N.bin  float32 tensors: the trainable layers' and the head's weights now, the same at
//                the best epoch so far, and the optimizer's moments (Adam's m and v) with its step
//                count in state.json, so a resumed run repeats the uninterrupted one exactly.
// epoch-N.bin is written (atomically) before the state.json that names it, and the previous one
// is removed after, so a crash at any point leaves a complete checkpoint.

export const CHECKPOINT_DIR = 'checkpoint-fine-tune';
const STATE_FILE = 'state.json';

export type TensorGroup = 'weights' | 'best' | 'm' | 'v';

export interface FineTuneProgress {
  /** Fine-tuning epochs done. */
  epoch: number;
  bestEpoch: number;
  bestValLoss: number;
  history: EpochStats[];
  adamStep: number;
  /** The warm-up head on the pretrained blocks, scored on the validation split as every epoch is (for comparison). */
  baseline?: { loss: number; accuracy: number };
}

export interface CheckpointState {
  key: string;
  options: TrainOptions;
  phase: 'warm-up' | 'fine-tune';
  warmUp: HeadState;
  fineTune?: FineTuneProgress & { file: string; tensors: { group: TensorGroup; shape: number[] }[] };
}

export interface CheckpointTensors {
  weights: Float32Array[];
  best: Float32Array[];
  m: Float32Array[];
  v: Float32Array[];
  shapes: Record<TensorGroup, number[][]>;
}

export async function readCheckpoint(out: string): Promise<CheckpointState | undefined> {
  try {
    return JSON.parse(await readFile(path.join(out, CHECKPOINT_DIR, STATE_FILE), 'utf8')) as CheckpointState;
  } catch {
    return undefined;
  }
}

export async function readCheckpointTensors(out: string, state: CheckpointState): Promise<Record<TensorGroup, Float32Array[]>> {
  const groups: Record<TensorGroup, Float32Array[]> = { weights: [], best: [], m: [], v: [] };
  if (!state.fineTune) return groups;
  const bytes = await readFile(path.join(out, CHECKPOINT_DIR, state.fineTune.file));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let offset = 0;
  for (const t of state.fineTune.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    groups[t.group].push(all.slice(offset, offset + size));
    offset += size;
  }
  if (offset !== all.length) throw new Error(`${state.fineTune.file} holds ${all.length} values, its index ${offset}`);
  return groups;
}

export async function writeWarmUpCheckpoint(out: string, state: Omit<CheckpointState, 'fineTune' | 'phase'>): Promise<void> {
  await writeJsonAtomic(path.join(out, CHECKPOINT_DIR, STATE_FILE), { ...state, phase: 'warm-up' });
}

export async function writeFineTuneCheckpoint(out: string, state: Omit<CheckpointState, 'fineTune' | 'phase'>, progress: FineTuneProgress, tensors: CheckpointTensors): Promise<void> {
  const dir = path.join(out, CHECKPOINT_DIR);
  const file = `epoch-${progress.epoch}.bin`;
  const groups: TensorGroup[] = ['weights', 'best', 'm', 'v'];
  const index = groups.flatMap((group) => tensors.shapes[group].map((shape) => ({ group, shape })));
  const arrays = groups.flatMap((group) => tensors[group]);
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const a of arrays) {
    all.set(a, offset);
    offset += a.length;
  }
  await writeFileAtomic(path.join(dir, file), new Uint8Array(all.buffer));
  const full: CheckpointState = { ...state, phase: 'fine-tune', fineTune: { ...progress, file, tensors: index } };
  await writeJsonAtomic(path.join(dir, STATE_FILE), full);
  for (const name of await readdir(dir)) {
    if (/^epoch-\d+\.bin$/.test(name) && name !== file) await rm(path.join(dir, name), { force: true });
  }
}

export async function removeCheckpoint(out: string): Promise<void> {
  await rm(path.join(out, CHECKPOINT_DIR), { recursive: true, force: true });
}
