import { DomainError } from '@filesync/server-kit';
import { callBudget } from './call-budget';

const signal = new AbortController().signal;

describe('callBudget', () => {
  it("keeps the caller's deadline when it is sooner than the cap", () => {
    const budget = callBudget({ bearerToken: 't', deadline: new Date(1_500), signal }, 10_000, 1_000);
    expect(budget).toEqual({ accessToken: 't', deadline: new Date(1_500), signal });
  });

  it('caps a caller without a deadline', () => {
    expect(
      callBudget({ bearerToken: undefined, deadline: undefined, signal }, 10_000, 1_000).deadline,
    ).toEqual(new Date(11_000));
  });

  it('fails with deadline-exceeded once the deadline passed', () => {
    expect(() => callBudget({ bearerToken: 't', deadline: new Date(900), signal }, 10_000, 1_000)).toThrow(
      DomainError,
    );
  });
});
