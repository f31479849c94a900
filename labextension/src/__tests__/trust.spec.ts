import { insertedOutputs, trustsServerRun } from '../trust';

const trustedMark = { has: (key: string) => key === 'trusted' };
const otherMark = { has: (key: string) => key === 'tags' };

describe('trustsServerRun', () => {
  it('trusts the transaction that cleared the outputs and marked the cell', () => {
    // begin_run: old outputs deleted, the mark set, the first output in the same change.
    const change = {
      metadataChange: trustedMark,
      outputsChange: [{ delete: 3 }, { insert: [{}] }]
    };
    expect(trustsServerRun(change, true, 1)).toBe(true);
    // A cell that had no output: nothing to delete, nothing held.
    expect(trustsServerRun({ metadataChange: trustedMark }, true, 0)).toBe(
      true
    );
  });

  it('never trusts a cell still holding outputs the change did not bring', () => {
    // The mark arrived, but stored outputs are still there: trusting would run them.
    expect(trustsServerRun({ metadataChange: trustedMark }, true, 2)).toBe(
      false
    );
    expect(
      trustsServerRun(
        {
          metadataChange: trustedMark,
          outputsChange: [{ retain: 1 }, { insert: [{}] }] as never
        },
        true,
        2
      )
    ).toBe(false);
  });

  it('needs the mark set to true by this very change', () => {
    expect(trustsServerRun({ metadataChange: otherMark }, true, 0)).toBe(false);
    expect(trustsServerRun({ outputsChange: [{ delete: 1 }] }, true, 0)).toBe(
      false
    );
    expect(trustsServerRun({ metadataChange: trustedMark }, false, 0)).toBe(
      false
    );
  });
});

describe('insertedOutputs', () => {
  it('counts lists and single outputs', () => {
    expect(
      insertedOutputs({ outputsChange: [{ insert: [{}, {}] }, { insert: {} }] })
    ).toBe(3);
    expect(insertedOutputs({})).toBe(0);
  });
});
