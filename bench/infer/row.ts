import { load1m, type RssSampler } from './stats.ts';
import type { BenchRow } from './types.ts';

export type RowMeta = Pick<BenchRow, 'kind' | 'runtime' | 'variant' | 'batchSize'>;

/** What every measurement needs: the memory sampler and somewhere to say what it is doing. */
export interface BenchContext {
  sampler: RssSampler;
  log: (line: string) => void;
}

/** A row from a measured count and time; `peakRssMiB` is the peak of the phase that just ended. */
export function rowOf(meta: RowMeta, images: number, seconds: number, cpuMs: number, peakRssMiB: number, log: (line: string) => void): BenchRow {
  if (!(images > 0) || !(seconds > 0)) throw new Error(`${meta.kind} ${meta.variant}: timed ${images} images in ${seconds} s`);
  const row: BenchRow = {
    ...meta,
    images,
    seconds: round(seconds, 3),
    imagesPerSecond: round(images / seconds, 2),
    msPerImage: round((seconds * 1000) / images, 2),
    cpuMsPerImage: round(cpuMs / images, 2),
    load1m: load1m(),
    peakRssMiB: round(peakRssMiB, 1),
  };
  log(`  ${meta.kind} ${meta.variant} batch ${meta.batchSize}: ${row.imagesPerSecond} img/s (${images} images, load ${row.load1m})`);
  return row;
}

/**
 * Times `work` (which returns how many images it handled) as one report row. Warm-up belongs
 * outside: the first runs of a session or shape allocate and JIT-compile.
 */
export async function measureRow(meta: RowMeta, context: BenchContext, work: () => Promise<number>): Promise<BenchRow> {
  context.sampler.phase();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const images = await work();
  const seconds = (performance.now() - start) / 1000;
  return rowOf(meta, images, seconds, cpuMsSince(cpu), context.sampler.phase(), context.log);
}

/** CPU milliseconds the process (all its threads) spent since `start`. */
export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

export function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}
