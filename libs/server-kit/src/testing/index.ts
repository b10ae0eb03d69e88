import { DomainError } from '../errors';

/** The DomainError `run` throws; fails the test when it throws nothing or something else. */
export function domainErrorThrownBy(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
}

/** The DomainError `work` rejects with; fails the test when it resolves or rejects otherwise. */
export async function domainErrorRejectedBy(work: Promise<unknown>): Promise<DomainError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
}
