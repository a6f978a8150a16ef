import { UserError } from '../core/index.ts';

/** A command line that asks for something impossible (flags that contradict each other, say). */
export class UsageError extends UserError {
  override name = 'UsageError';
}
