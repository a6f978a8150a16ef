import { readFile } from 'node:fs/promises';
import { openSession, type OnnxSession, type PreprocessSpec } from '../../src/core/index.ts';
import type { Dataset } from '../../src/data/index.ts';
import { imageToInput } from '../../src/node/index.ts';

/** Photos decoded per step: every model classifies the same step before the next is decoded. */
const CHUNK = 32;

export interface Agreement {
  /** Photos whose top label is the folder's. */
  right: number;
  /** Photos whose top label is float32's. */
  same: number;
}

function argmax(values: Float32Array, from: number, count: number): number {
  let best = 0;
  for (let i = 1; i < count; i++) if (values[from + i] > values[from + best]) best = i;
  return best;
}

/**
 * Top labels of float32 (models[0]) and every other model on all of `dataset`'s photos, decoded
 * once with the model's preprocessing and run through each model in turn, so memory holds one
 * chunk of inputs rather than the whole set.
 */
export async function agreement(models: readonly Uint8Array[], labels: readonly string[], dataset: Dataset, preprocess: PreprocessSpec): Promise<Agreement[]> {
  const sessions: OnnxSession[] = [];
  for (const bytes of models) sessions.push(await openSession(bytes, { ep: 'cpu' }));
  const counts = models.map(() => ({ right: 0, same: 0 }));
  const size = preprocess.height * preprocess.width * 3;
  try {
    for (let start = 0; start < dataset.samples.length; start += CHUNK) {
      const chunk = dataset.samples.slice(start, start + CHUNK);
      const feed = new Float32Array(chunk.length * size);
      for (const [i, s] of chunk.entries()) feed.set(await imageToInput(await readFile(s.file), s.file, preprocess), i * size);
      let reference: number[] = [];
      for (const [m, session] of sessions.entries()) {
        const out = (await session.run(feed, [chunk.length, preprocess.height, preprocess.width, 3])).data;
        const classes = out.length / chunk.length;
        const top = chunk.map((_, i) => argmax(out, i * classes, classes));
        if (m === 0) reference = top;
        top.forEach((t, i) => {
          if (labels[t] === dataset.labels[chunk[i].label]) counts[m].right++;
          if (t === reference[i]) counts[m].same++;
        });
      }
    }
  } finally {
    for (const s of sessions) await s.release();
  }
  return counts;
}
