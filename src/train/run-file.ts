import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_FILES } from '../core/index.ts';
import { writeJsonAtomic } from '../node/index.ts';
import { TrainError, type TrainOptions } from './options.ts';

// A run's settings, written (atomically) into its model directory before any work starts, so an
// interrupted run can be continued from that directory alone, with exactly the settings it began
// with: `footwear train --resume DIR`. Removed when the run finishes; training.json then holds them.

export const RUN_FILE = 'run.json';
const FORMAT = 'footwear-run/1';

/** What a run was started with: every option but where it is written and whether it resumed. */
export type RunSettings = Omit<TrainOptions, 'out' | 'resume'>;

interface RunFile {
  format: typeof FORMAT;
  settings: RunSettings;
}

/** Paths made absolute, so a run can be resumed from another working directory. */
export function runSettings(options: TrainOptions): RunSettings {
  const settings: RunSettings & Partial<Pick<TrainOptions, 'out' | 'resume'>> = { ...options };
  delete settings.out;
  delete settings.resume;
  return {
    ...settings,
    data: path.resolve(options.data),
    backbone: options.backbone === 'mobilenet' ? options.backbone : path.resolve(options.backbone),
  };
}

export async function writeRunFile(options: TrainOptions): Promise<void> {
  const file: RunFile = { format: FORMAT, settings: runSettings(options) };
  await writeJsonAtomic(path.join(options.out, RUN_FILE), file);
}

export async function removeRunFile(dir: string): Promise<void> {
  await rm(path.join(dir, RUN_FILE), { force: true });
}

/** The settings of the interrupted run in `dir`; each way of not having one is said plainly. */
export async function readRunFile(dir: string): Promise<RunSettings> {
  const file = path.join(dir, RUN_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new TrainError(`--resume ${dir}: cannot read ${file} (${code})`);
    if (!existsSync(dir)) throw new TrainError(`--resume should be the model directory of an interrupted run, got ${dir}: no such folder`);
    if (existsSync(path.join(dir, MODEL_FILES.record))) {
      throw new TrainError(`--resume ${dir}: the run there has finished (its settings are in ${path.join(dir, MODEL_FILES.record)}); start a new run with --data and --out`);
    }
    throw new TrainError(`--resume should be the model directory of an interrupted run, got ${dir}: it holds no ${RUN_FILE}, which a run writes when it starts`);
  }
  let parsed: Partial<RunFile>;
  try {
    parsed = JSON.parse(text) as Partial<RunFile>;
  } catch (error) {
    throw new TrainError(`--resume ${dir}: ${file} is not valid JSON (${(error as Error).message})`);
  }
  if (parsed.format !== FORMAT || typeof parsed.settings?.data !== 'string') throw new TrainError(`--resume ${dir}: ${file} is not a footwear run file (format ${JSON.stringify(parsed.format)})`);
  return parsed.settings;
}
