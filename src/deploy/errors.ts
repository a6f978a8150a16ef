/**
 * An export cannot be written as asked: the message names the flag or file, what was expected and
 * what was found, on one line. The CLI prints it without a stack (its name is a user error).
 */
export class ExportError extends Error {
  override name = 'ExportError';
}
