import { TTA_EXPECTED, TTA_MAX_VIEWS, parseTta, type TtaSetting } from '../core/index.ts';
import { UsageError } from './errors.ts';

// Checks of flag values, worded like every other flag error: `--flag should be ..., got ...`.
// yargs turns a non-number given to a number flag into NaN, which says nothing to a user.

const shown = (value: unknown) => (typeof value === 'number' && Number.isNaN(value) ? 'a value that is not a number' : String(value));

/** An integer >= `min`; undefined passes through (the flag was not given). */
export function integerFlag<T extends number | undefined>(flag: string, value: T, min = 1): T {
  if (value === undefined) return value;
  if (!Number.isInteger(value) || (value as number) < min) {
    throw new UsageError(`--${flag} should be ${min === 1 ? 'a positive integer' : `an integer >= ${min}`}, got ${shown(value)}`);
  }
  return value;
}

/** A finite number that `ok` accepts, `expected` saying which; undefined passes through. */
export function numberFlag<T extends number | undefined>(flag: string, value: T, ok: (v: number) => boolean, expected: string): T {
  if (value === undefined) return value;
  if (!(Number.isFinite(value) && ok(value as number))) throw new UsageError(`--${flag} should be ${expected}, got ${shown(value)}`);
  return value;
}

/** 'auto', or an integer from `min` to `max`; undefined passes through. */
export function autoOrIntegerFlag(flag: string, value: string | number | undefined, min: number, max = Infinity): number | 'auto' | undefined {
  if (value === undefined || value === 'auto') return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = max === Infinity ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new UsageError(`--${flag} should be 'auto' or ${range}, got ${String(value)}`);
  }
  return n;
}

/** --tta, shared by predict, eval and serve. */
export const TTA_OPTION = {
  type: 'string',
  requiresArg: true,
  default: 'off',
  describe: `test-time augmentation: off; mirror (each photo also classified left-right mirrored, in the same run, probabilities averaged: twice the model work); or a view count 1-${TTA_MAX_VIEWS} (3 adds a centre zoom, 4 its mirror too)`,
} as const;

/** A --tta value, or the one line saying what it takes. */
export function ttaFlag(value: string | undefined): TtaSetting {
  const setting = parseTta(value ?? 'off');
  if (setting === undefined) throw new UsageError(`--tta should be ${TTA_EXPECTED}, got "${String(value)}"`);
  return setting;
}
