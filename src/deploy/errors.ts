import { UserError } from '../core/index.ts';

/**
 * An export cannot be written as asked: the message names the flag or file, what was expected and
 * what was found, on one line. The CLI prints it without a stack.
 */
export class ExportError extends UserError {
  override name = 'ExportError';
}
