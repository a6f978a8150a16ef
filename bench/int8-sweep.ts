// `npm run bench:int8 -- --model DIR [--data DIR] [--rounds N] [--write]`: every int8 option of
// bench/int8/variants.ts built from DIR/model.onnx, checked against float32 on the shared test
// photos, and timed against it in paired rounds; --write puts the table in BENCHMARKS.md.
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import { DEFAULT_INT8, loadCalibration, quantizeInt8, trainingFolder, variantName, type Int8Variant } from '../src/convert/index.ts';
import { isUserError, specFromModel } from '../src/core/index.ts';
import { discoverDataset } from '../src/data/index.ts';
import { agreement } from './int8/accuracy.ts';
import { cpuFlags, renderSection } from './int8/report.ts';
import { pairedRates, ratioStats, type SpeedPlan } from './int8/speed.ts';
import { SWEEP } from './int8/variants.ts';
import { machine, writeSection } from './sections.ts';
import { load1m } from './stats.ts';

const PLANS: SpeedPlan[] = [
  { batch: 32, images: 128 },
  { batch: 1, images: 32 },
];
/** The issue's accuracy budget: an int8 choice may lose at most this many points on the test set. */
const MAX_LOSS_POINTS = 0.3;

function describe(variant: Int8Variant): string {
  const kinds = (on: boolean) => Object.entries(variant.ops).flatMap(([kind, value]) => (value === on ? [kind] : []));
  const float = kinds(false);
  return `${variant.activations} activations, int8 ${variant.weights} weights, integer: ${kinds(true).join(', ')}${float.length > 0 ? `; float: ${float.join(', ')}` : ''}`;
}

async function main(): Promise<number> {
  const args = await yargs(process.argv.slice(2))
    .scriptName('bench:int8')
    .option('model', { type: 'string', demandOption: true, requiresArg: true, describe: 'model directory holding model.onnx (nothing is written there)' })
    .option('data', { type: 'string', default: '../shared/data/shoe-sandal-boot/test', requiresArg: true, describe: 'folder-per-class test photos' })
    .option('calibration', { type: 'string', requiresArg: true, describe: 'calibration folder', defaultDescription: "the model's training folder, as convert uses" })
    .option('rounds', { type: 'number', default: 9, requiresArg: true, describe: 'paired timing rounds' })
    .option('write', { type: 'boolean', default: false, describe: 'write the section into BENCHMARKS.md' })
    .strict()
    .help()
    .parseAsync();
  if (!Number.isInteger(args.rounds) || args.rounds < 1) throw new RangeError(`--rounds should be a positive integer, got ${args.rounds}`);
  const command = `npm run bench:int8 -- --model ${args.model} --data ${args.data} --rounds ${args.rounds}${args.write ? ' --write' : ''}`;
  const fp32File = path.join(args.model, 'model.onnx');
  const fp32 = await readFile(fp32File);
  const spec = specFromModel(fp32, fp32File);
  const { preprocess } = spec;
  const started = new Date();
  const loads = [load1m()];

  const folder = path.resolve(args.calibration ?? (await trainingFolder(args.model)));
  const calibration = await loadCalibration(folder, preprocess);
  const temp = await mkdtemp(path.join(os.tmpdir(), 'footwear-int8-sweep-'));
  const built: { name: string; bytes: Uint8Array; seconds: number }[] = [];
  try {
    for (const [i, variant] of SWEEP.entries()) {
      const start = performance.now();
      const { bytes } = await quantizeInt8(fp32, calibration, { variant, source: folder });
      // Each variant is a real file, as convert would write it, for anyone who wants to look.
      await writeFile(path.join(temp, `variant-${i}.int8.onnx`), bytes);
      built.push({ name: variantName(variant), bytes, seconds: (performance.now() - start) / 1000 });
      process.stderr.write(`built ${variantName(variant)} (${(bytes.length / 1e6).toFixed(2)} MB) in ${built[i].seconds.toFixed(0)} s\n`);
    }
    loads.push(load1m());
    const dataset = await discoverDataset(path.resolve(args.data));
    const counts = await agreement([fp32, ...built.map((b) => b.bytes)], spec.labels, dataset, preprocess);
    process.stderr.write(`accuracy: ${counts.map((c, i) => `${i === 0 ? 'fp32' : built[i - 1].name} ${c.right}/${dataset.samples.length}`).join('; ')}\n`);
    loads.push(load1m());
    const shape = [preprocess.height, preprocess.width, 3];
    const rates = await pairedRates(fp32, built.map((b) => b.bytes), shape, PLANS, args.rounds);
    loads.push(load1m());

    const n = dataset.samples.length;
    const rows = built.map((b, v) => ({
      name: b.name,
      bytes: b.bytes.length,
      right: counts[v + 1].right,
      same: counts[v + 1].same,
      lossPoints: (100 * (counts[0].right - counts[v + 1].right)) / n,
      speed: PLANS.map((plan, p) => ({ batch: plan.batch, ...ratioStats(rates[v][p]), fp32: rates[v][p].fp32, int8: rates[v][p].int8 })),
    }));
    const eligible = rows.filter((r) => r.lossPoints <= MAX_LOSS_POINTS);
    const fastest = [...eligible].sort((a, b) => b.speed[0].median - a.speed[0].median)[0];
    const body = renderSection({
      command,
      machine: machine(),
      flags: await cpuFlags(),
      date: started.toISOString(),
      loads,
      n,
      fp32Right: counts[0].right,
      fp32Bytes: fp32.length,
      rows,
      maxLoss: MAX_LOSS_POINTS,
      fastest: fastest?.name,
      shipped: variantName(DEFAULT_INT8),
      defaultDescription: describe(DEFAULT_INT8),
      calibration: `${calibration.inputs.length} images of ${folder}`,
      rounds: args.rounds,
      plans: PLANS,
    });
    process.stdout.write(`${body}\n`);
    if (args.write) await writeSection('## int8 on this CPU', body);
    return 0;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`bench:int8: ${isUserError(error) ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`);
  process.exitCode = isUserError(error) ? 1 : 70;
}
