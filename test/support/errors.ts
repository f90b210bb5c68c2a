import { InputError } from '../../core/errors.ts';

/** Returns the message of the InputError that `work` throws. Any other error is thrown on, and no error fails the test. */
export function inputErrorMessage(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    if (error instanceof InputError) return error.message;
    throw error;
  }
  throw new Error('expected an InputError, but nothing was thrown');
}

/** Returns the InputError that `work` rejects with. Any other error is thrown on, and no error fails the test. */
export async function inputErrorOf(work: Promise<unknown>): Promise<InputError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError, but nothing was thrown');
}
