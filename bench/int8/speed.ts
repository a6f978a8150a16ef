import { openSession, type OnnxSession } from '../../src/core/index.ts';
import { quantile } from '../stats.ts';

export interface Rates {
  /** img/s of float32 and of the variant in each round, at one batch size. */
  fp32: number[];
  int8: number[];
}

export interface SpeedPlan {
  batch: number;
  /** Images per side and round: several runs at batch 1, a few at 32. */
  images: number;
}

/**
 * img/s of `a` and `b` over `images` each, run by run in turns (a b b a a b ...): each side's
 * time is the sum of its runs, so a burst of load from other processes lands on both sides
 * within a run's length rather than on one side of a block.
 */
async function interleaved(a: OnnxSession, b: OnnxSession, feed: Float32Array, dims: number[], images: number): Promise<[number, number]> {
  const seconds = [0, 0];
  const runs = Math.max(1, Math.round(images / dims[0]));
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const side of order) {
      const start = performance.now();
      await (side === 0 ? a : b).run(feed, dims);
      seconds[side] += (performance.now() - start) / 1000;
    }
  }
  return [(runs * dims[0]) / seconds[0], (runs * dims[0]) / seconds[1]];
}

/**
 * Model-alone rates on ready tensors (no decoding), float32 against each variant in paired
 * rounds: in every round each variant is timed against its own float32 timing, run for run in
 * turns (see interleaved), so a load change on this shared machine hits both sides of a ratio
 * alike. Returns per variant and per plan the rates of every round.
 */
export async function pairedRates(fp32: Uint8Array, variants: readonly Uint8Array[], shape: readonly number[], plans: readonly SpeedPlan[], rounds: number): Promise<Rates[][]> {
  const base = await openSession(fp32, { ep: 'cpu' });
  const sessions: OnnxSession[] = [];
  for (const bytes of variants) sessions.push(await openSession(bytes, { ep: 'cpu' }));
  const size = shape.reduce((a, b) => a * b, 1);
  const feeds = plans.map((p) => Float32Array.from({ length: p.batch * size }, (_, i) => ((i * 2654435761) % 1000) / 1000));
  const result = variants.map(() => plans.map(() => ({ fp32: [] as number[], int8: [] as number[] })));
  try {
    // Warm-up: the first run of each shape allocates and plans.
    for (const [p, plan] of plans.entries()) for (const s of [base, ...sessions]) await s.run(feeds[p], [plan.batch, ...shape]);
    for (let r = 0; r < rounds; r++) {
      for (const [v, session] of sessions.entries()) {
        for (const [p, plan] of plans.entries()) {
          const [f, q] = await interleaved(base, session, feeds[p], [plan.batch, ...shape], plan.images);
          result[v][p].fp32.push(f);
          result[v][p].int8.push(q);
        }
      }
    }
  } finally {
    for (const s of [base, ...sessions]) await s.release();
  }
  return result;
}

/** Median of the per-round ratios int8 / float32, and their lowest and highest. */
export function ratioStats(rates: Rates): { median: number; min: number; max: number } {
  const ratios = rates.int8.map((v, i) => v / rates.fp32[i]);
  return { median: quantile(ratios, 0.5), min: Math.min(...ratios), max: Math.max(...ratios) };
}
