/**
 * A mistake the user can fix (a bad flag, file, model or photo): its message is the whole story,
 * so front ends print it as one line, without a stack. Every stage's own error classes extend it;
 * anything else that escapes is a bug in footwear.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/**
 * Parameter errors from the library API are RangeErrors, as in sharp and Node itself; from a
 * command line they are user mistakes too.
 */
export function isUserError(error: unknown): error is Error {
  return error instanceof UserError || error instanceof RangeError;
}
