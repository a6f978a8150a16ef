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
