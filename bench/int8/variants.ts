import { int8Variant, type Int8Variant } from '../../src/convert/index.ts';

/**
 * The int8 options the sweep measures: the default and one change of each choice the issue
 * names (activation signedness, weight granularity, which kinds of node go integer), so each
 * row shows what that one choice costs or gains on this CPU.
 */
export const SWEEP: readonly Int8Variant[] = [
  int8Variant(),
  int8Variant({ activations: 'int8' }),
  int8Variant({ weights: 'per-tensor' }),
  int8Variant({ ops: { depthwise: false } }),
  int8Variant({ ops: { first: false } }),
  int8Variant({ ops: { head: true } }),
  int8Variant({ weights: 'per-tensor', ops: { first: false } }),
];
