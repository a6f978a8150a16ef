import { openSession, type OnnxSession } from '../../src/core/index.ts';
import { quantile } from '../stats.ts';

export interface Rates {
  /** img/s of float32 and of the variant in each round, at one batch size. */
  fp32: number[];
  int8: number[];
}

export interface SpeedPlan {
  batch: number;
  /** Images per timing: several runs at batch 1, one or two at 32. */
  images: number;
}

async function rate(session: OnnxSession, feed: Float32Array, dims: number[], images: number): Promise<number> {
  const start = performance.now();
  let done = 0;
  while (done < images) {
    await session.run(feed, dims);
    done += dims[0];
  }
  return done / ((performance.now() - start) / 1000);
}

/**
 * Model-alone rates on ready tensors (no decoding), float32 against each variant in paired,
 * alternating rounds: in every round each variant is timed right next to its own float32
 * timing, first one then the other in turns, so a load change on this shared machine hits
 * both sides of a ratio alike. Returns per variant and per plan the rates of every round.
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
          const dims = [plan.batch, ...shape];
          const pair = [base, session];
          if ((r + v) % 2 === 1) pair.reverse();
          const measured = [];
          for (const s of pair) measured.push(await rate(s, feeds[p], dims, plan.images));
          if ((r + v) % 2 === 1) measured.reverse();
          result[v][p].fp32.push(measured[0]);
          result[v][p].int8.push(measured[1]);
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
