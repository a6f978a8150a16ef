import type { Classifier } from '../../src/node/index.ts';
import type { OnnxSession } from '../../src/core/index.ts';
import { packBatch } from './images.ts';
import { classifyAll } from './predict.ts';
import { runBatches } from './raw-ort.ts';
import { cpuMsSince, rowOf, round, type BenchContext } from './row.ts';
import { quantile } from './stats.ts';
import type { BenchRow, VariantName } from './types.ts';

export interface Paired {
  /** predict over all the files: the sum of its rounds. */
  row: BenchRow;
  /** img/s of each round, raw model at `batchSize` and predict. */
  raw: number[];
  predict: number[];
  /** Median over the rounds of predict / raw: the goal ratio. */
  ratio: number;
  batchSize: number;
}

/**
 * predict over the files in `rounds` parts, each part timed next to as many images through the
 * raw model at its best batch size, in alternating order. On a shared machine the load moves
 * by 2x within a minute; a ratio of two numbers taken seconds apart under the same load is
 * far steadier than one of numbers taken a minute apart, so the goal ratio is the median of the
 * per-round ratios.
 */
export async function pairedPredict(
  classifier: Classifier,
  session: OnnxSession,
  inputs: readonly Float32Array[],
  rawBatchSize: number,
  files: readonly string[],
  batchSize: number,
  rounds: number,
  variant: VariantName,
  context: BenchContext,
): Promise<Paired> {
  const { height, width } = classifier.spec.preprocess;
  const batch = packBatch(inputs, 0, rawBatchSize);
  const dims = [rawBatchSize, height, width, 3];
  // Warm-up: JIT-compiles predict's JavaScript path (the raw shape is warm from the sweep) and
  // starts the preprocessing workers, which only lists longer than one batch use.
  await classifyAll(classifier, files.slice(0, batchSize * 3), batchSize);
  const parts = Math.min(rounds, files.length);
  const raw: number[] = [];
  const predict: number[] = [];
  let predictSeconds = 0;
  let predictCpuMs = 0;
  context.sampler.phase();
  for (let r = 0; r < parts; r++) {
    const part = files.slice(Math.floor((r * files.length) / parts), Math.floor(((r + 1) * files.length) / parts));
    const timeRaw = async () => {
      const start = performance.now();
      const images = await runBatches(session, batch, dims, part.length);
      raw.push(images / ((performance.now() - start) / 1000));
    };
    const timePredict = async () => {
      const cpu = process.cpuUsage();
      const start = performance.now();
      const images = await classifyAll(classifier, part, batchSize);
      const seconds = (performance.now() - start) / 1000;
      predictCpuMs += cpuMsSince(cpu);
      predictSeconds += seconds;
      predict.push(images / seconds);
    };
    if (r % 2 === 0) {
      await timeRaw();
      await timePredict();
    } else {
      await timePredict();
      await timeRaw();
    }
  }
  const runtime = `footwear predict, onnxruntime-node (${classifier.executionProvider})`;
  const row = rowOf({ kind: 'predict', runtime, variant, batchSize }, files.length, predictSeconds, predictCpuMs, context.sampler.phase(), context.log);
  const ratio = quantile(
    predict.map((p, i) => p / raw[i]),
    0.5,
  );
  return { row, raw: raw.map((v) => round(v, 2)), predict: predict.map((v) => round(v, 2)), ratio: round(ratio, 3), batchSize: rawBatchSize };
}
