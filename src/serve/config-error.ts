import { UserError } from '../core/index.ts';

/** A serve flag that cannot work as given (a token file that is missing, an origin that is not one): named, with what was expected. */
export class ServeConfigError extends UserError {
  override name = 'ServeConfigError';
}
