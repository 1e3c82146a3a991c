import { ErrorCodes, PreheatError } from '../errors';

export function usageError(message: string): PreheatError {
  return new PreheatError(ErrorCodes.usage, `${message} (see \`preheat help\`)`, 2);
}
