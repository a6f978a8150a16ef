// `npm run bench:transformers-js -- --model DIR [--data DIR] [--rounds N] [--write]`: footwear
// predict against Hugging Face transformers.js's image-classification pipeline on the same
// weights and the same photos, both as whole commands in child processes, alternately for N
// rounds. Reports photos/s and CPU per photo of each, their ratios (median and spread) and how
// many photos each got right; --write rewrites "## Against transformers.js" in BENCHMARKS.md.
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { SHOES } from '../fixtures/shared-data.ts';
import { isUserError, UserError } from '../src/core/index.ts';
import { DEFAULT_BATCH_SIZE, footwearVersion, packageVersion, resolveModelFile } from '../src/node/index.ts';
import { machine, writeSection } from './sections.ts';
import { load1m } from './stats.ts';
import { writeHfFolder } from './transformers-js/hf-folder.ts';
import { installTransformersJs, TRANSFORMERS_JS_VERSION } from './transformers-js/install.ts';
import { HEADING, markdown, summary, type Round } from './transformers-js/report.ts';
import { runCommand, type CommandRun, type CommandSpec } from './transformers-js/run.ts';

const ROOT = path.resolve(fileURLToPath(import.meta.url), '../..');
const BIN = path.join(ROOT, 'bin', 'footwear.js');
const log = (line: string) => process.stderr.write(`${line}\n`);
const rel = (p: string) => path.relative(ROOT, p) || '.';

async function main(): Promise<void> {
  const args = await yargs(process.argv.slice(2))
    .scriptName('bench:transformers-js')
    .option('model', { type: 'string', demandOption: true, requiresArg: true, describe: 'footwear model folder or .onnx file' })
    .option('data', { type: 'string', requiresArg: true, default: path.join(SHOES, 'test'), defaultDescription: '../shared/data/shoe-sandal-boot/test', describe: 'folder of photos in one folder per class (searched recursively)' })
    .option('rounds', { type: 'number', requiresArg: true, default: 5, describe: 'alternating rounds; each runs both commands once' })
    .option('batch-size', { type: 'number', requiresArg: true, default: DEFAULT_BATCH_SIZE, describe: 'photos per model run, on both sides' })
    .option('transformers-version', { type: 'string', requiresArg: true, default: TRANSFORMERS_JS_VERSION, describe: 'the @huggingface/transformers version to install and measure' })
    .option('write', { type: 'boolean', default: false, describe: 'rewrite the "## Against transformers.js" section of BENCHMARKS.md' })
    .strict()
    .help()
    .parseAsync();
  const { rounds, write } = args;
  const batch = args['batch-size'];
  if (!Number.isInteger(rounds) || rounds < 1) throw new UserError(`--rounds should be a whole number of at least 1, got ${rounds}`);
  if (!Number.isInteger(batch) || batch < 1) throw new UserError(`--batch-size should be a whole number of at least 1, got ${batch}`);
  const data = path.resolve(args.data);
  if (!existsSync(data) || !statSync(data).isDirectory()) throw new UserError(`--data ${args.data}: no such folder of photos`);
  const model = path.resolve(args.model);
  await resolveModelFile(model);

  const installation = await installTransformersJs(args['transformers-version'], log);
  const work = await mkdtemp(path.join(os.tmpdir(), 'footwear-vs-transformers-js-'));
  try {
    const hf = await writeHfFolder(model, path.join(work, 'hf-model'));
    const sides: Record<'footwear' | 'transformers', CommandSpec> = {
      footwear: { args: [BIN, 'predict', '--model', model, data, '--jsonl', path.join(work, 'footwear.jsonl'), '--ep', 'cpu', '--batch-size', String(batch)], cwd: ROOT, out: path.join(work, 'footwear.jsonl') },
      transformers: { args: [installation.script, hf.dir, data, path.join(work, 'transformers.jsonl'), String(batch)], cwd: installation.dir, out: path.join(work, 'transformers.jsonl') },
    };
    // One untimed run each fills the page cache and tsx's compile cache, and proves both work.
    const warm = { footwear: await runCommand(sides.footwear), transformers: await runCommand(sides.transformers) };
    if (warm.footwear.photos !== warm.transformers.photos || warm.footwear.photos === 0) {
      throw new Error(`footwear classified ${warm.footwear.photos} photos, transformers.js ${warm.transformers.photos}: they should agree`);
    }
    const photos = warm.footwear.photos;
    log(`warm-up: ${photos} photos; right: footwear ${warm.footwear.right}, transformers.js ${warm.transformers.right}`);

    const loadStart = load1m();
    const results: Round[] = [];
    for (let round = 0; round < rounds; round++) {
      const load = load1m();
      // Alternate which side goes first, so neither always runs after the other.
      const order: ('footwear' | 'transformers')[] = round % 2 === 0 ? ['footwear', 'transformers'] : ['transformers', 'footwear'];
      const runs: Partial<Record<'footwear' | 'transformers', CommandRun>> = {};
      for (const side of order) runs[side] = await runCommand(sides[side]);
      const r: Round = { load, footwear: runs.footwear as CommandRun, transformers: runs.transformers as CommandRun };
      results.push(r);
      log(`round ${round + 1}/${rounds} (load ${load}): footwear ${(photos / r.footwear.seconds).toFixed(1)}, transformers.js ${(photos / r.transformers.seconds).toFixed(1)} photos/s`);
    }
    const body = markdown({
      rounds: results,
      photos,
      machine: machine(),
      loadStart,
      loadEnd: load1m(),
      date: new Date().toISOString(),
      command: `npm run bench:transformers-js -- --model ${args.model} --data ${rel(data)} --rounds ${rounds}${write ? ' --write' : ''}`,
      footwearCommand: `footwear predict --model M ${rel(data)} --jsonl FILE --ep cpu --batch-size ${batch}`,
      transformersCommand: `node classify.mjs HF_FOLDER ${rel(data)} FILE ${batch}`,
      versions: {
        footwear: { footwear: footwearVersion(), 'onnxruntime-node': packageVersion('onnxruntime-node') ?? '?', sharp: packageVersion('sharp') ?? '?' },
        transformers: installation.versions,
      },
      inputSize: `${hf.spec.preprocess.width}x${hf.spec.preprocess.height}`,
      cores: os.cpus().length,
    });
    process.stdout.write(`${body}\n`);
    const s = summary(results);
    log(`footwear / transformers.js: ${s.speed.toFixed(2)}x photos/s, ${s.cpu.toFixed(2)}x photos per CPU-second`);
    if (write) await writeSection(HEADING, body);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  log(`bench:transformers-js: ${isUserError(error) ? (error as Error).message : ((error as Error).stack ?? String(error))}`);
  process.exitCode = isUserError(error) ? 1 : 70;
}
