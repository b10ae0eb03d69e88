import { isMassDelete } from './mass-delete';

describe('kind 2: the mass-delete rule', () => {
  it('needs confirmation to delete every live file, however few', () => {
    expect(isMassDelete({ deleting: 1, live: 1 })).toBe(true);
    expect(isMassDelete({ deleting: 3, live: 3 })).toBe(true);
    expect(isMassDelete({ deleting: 3, live: 2 })).toBe(true);
  });

  it('needs confirmation for more than half when that is more than 10 files', () => {
    expect(isMassDelete({ deleting: 11, live: 21 })).toBe(true);
    expect(isMassDelete({ deleting: 10, live: 12 })).toBe(false);
    expect(isMassDelete({ deleting: 11, live: 22 })).toBe(false);
    expect(isMassDelete({ deleting: 500, live: 100_000 })).toBe(false);
  });

  it('honours a user cap', () => {
    expect(isMassDelete({ deleting: 3, live: 1000, maxDelete: 2 })).toBe(true);
    expect(isMassDelete({ deleting: 2, live: 1000, maxDelete: 2 })).toBe(false);
  });

  it('never asks when nothing is deleted', () => {
    expect(isMassDelete({ deleting: 0, live: 0 })).toBe(false);
  });
});
