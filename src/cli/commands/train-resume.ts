import path from 'node:path';
import { readRunFile, type RunSettings, type TrainOptions } from '../../train/index.ts';
import { UsageError } from '../errors.ts';
import type { TrainArgs } from './train.ts';

// `train --resume DIR` continues the run in DIR with the settings it was started with (DIR/run.json).
// A flag given beside it must agree with that run: a different value would make another run, which
// belongs in another --out, so it is refused by name rather than silently applied or ignored.

type SettingFlag = 'data' | 'backbone' | 'epochs' | 'batch-size' | 'learning-rate' | 'val-split' | 'seed' | 'patience' | 'augment' | 'export';

const SETTINGS: Record<SettingFlag, keyof RunSettings> = {
  data: 'data',
  backbone: 'backbone',
  epochs: 'epochs',
  'batch-size': 'batchSize',
  'learning-rate': 'learningRate',
  'val-split': 'valSplit',
  seed: 'seed',
  patience: 'patience',
  augment: 'augment',
  export: 'export',
};

/** How a flag would have been typed with this value (booleans as --x / --no-x). */
function typed(flag: string, value: unknown): string {
  if (typeof value === 'boolean') return value ? `--${flag}` : `--no-${flag}`;
  return `--${flag} ${String(value)}`;
}

/** A path flag compares as the absolute path it names; 'mobilenet' is a name, not a path. */
function comparable(flag: SettingFlag, value: unknown): unknown {
  // Given as text ('auto' or a number), saved as the number or 'auto'.
  if (flag === 'augment' || flag === 'batch-size') return String(value);
  if ((flag === 'data' || flag === 'backbone') && typeof value === 'string' && value !== 'mobilenet') return path.resolve(value);
  return value;
}

/** The options that continue the run in `args.resume`; throws naming the first flag that disagrees. */
export async function resumeOptions(args: TrainArgs & { resume: string }, ep: TrainOptions['ep']): Promise<TrainOptions> {
  const dir = args.resume;
  const saved = await readRunFile(dir);
  if (args.out !== undefined && path.resolve(args.out) !== path.resolve(dir)) {
    throw new UsageError(`--out ${args.out} conflicts with --resume ${dir}: a resumed run writes where it started; drop --out`);
  }
  for (const [flag, key] of Object.entries(SETTINGS) as [SettingFlag, keyof RunSettings][]) {
    const given = args[flag];
    if (given === undefined || comparable(flag, given) === comparable(flag, saved[key])) continue;
    throw new UsageError(
      `${typed(flag, given)} conflicts with the run being resumed in ${dir}, which was started with ${typed(flag, saved[key])}; ` +
        `drop ${typed(flag, given).split(' ')[0]} to continue it, or start a new run with another --out`,
    );
  }
  return { ...saved, out: dir, resume: true, ep };
}
