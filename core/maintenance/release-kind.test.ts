import { releaseKindOf } from './window-match';

describe('issue 6 processAfter: releaseKindOf — what a held receipt becomes when its window ends', () => {
  it.each([
    { processAfter: false, resolved: true, firing: true, expected: 'kept', why: 'the window no longer asks to process after: kept, whatever came later' },
    { processAfter: true, resolved: true, firing: false, expected: 'resolved', why: 'a resolve of the same condition came later: nothing is firing' },
    { processAfter: true, resolved: true, firing: true, expected: 'resolved', why: 'a resolve wins over a later firing' },
    { processAfter: true, resolved: false, firing: true, expected: 'superseded', why: 'a later firing carries the condition' },
    { processAfter: true, resolved: false, firing: false, expected: 'requeued', why: 'still firing and nothing later: processed now' },
  ])('$why', ({ processAfter, resolved, firing, expected }) => {
    expect(releaseKindOf(processAfter, { resolved, firing })).toBe(expected);
  });
});
