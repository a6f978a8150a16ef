// Errors whose message is the whole story for a user: printed as one line, no stack trace.
const USER_ERRORS = new Set([
  'DatasetError',
  'TrainError',
  'ModelError',
  'ImageError',
  'SpecError',
  'ProviderError',
  'UnsupportedLayerError',
  'EvalError',
  'RuntimeError',
  'OnnxFormatError',
  'UsageError',
  'VerificationError',
  'OutputError',
  'ExportError',
]);

export class UsageError extends Error {
  override name = 'UsageError';
}

export function isUserError(error: unknown): error is Error {
  return error instanceof Error && (USER_ERRORS.has(error.name) || error instanceof RangeError);
}
