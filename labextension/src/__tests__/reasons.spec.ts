import {
  cellLabel,
  reasonParts,
  splitCode,
  statusMark,
  syntaxErrorAt
} from '../reasons';

describe('statusMark', () => {
  it('names each status as the footer shows it', () => {
    expect(statusMark({ status: 'queued', error: null })).toBe('queued');
    expect(statusMark({ status: 'running', error: null })).toBe('running');
    expect(statusMark({ status: 'success', error: null })).toBe('ok');
    expect(statusMark({ status: 'error', error: 'ValueError: no' })).toBe(
      'failed'
    );
    expect(statusMark({ status: 'error', error: 'interrupted' })).toBe(
      'interrupted'
    );
    expect(statusMark({ status: 'blocked', error: 'cell a failed' })).toBe(
      'blocked'
    );
    expect(statusMark({ status: 'idle', error: null })).toBe('idle');
  });

  it('calls a cell whose own code does not parse failed, not blocked', () => {
    const error = 'SyntaxError: line 2, column 4: invalid syntax';
    expect(statusMark({ status: 'blocked', error })).toBe('failed');
    expect(statusMark({ status: 'idle', error })).toBe('failed');
    expect(syntaxErrorAt({ error })).toEqual({ line: 2, column: 4 });
    expect(
      syntaxErrorAt({ error: 'cell a has a SyntaxError: line 2' })
    ).toBeNull();
  });
});

describe('reasonParts', () => {
  it('cuts the reason where it names a cell, by whole ids only', () => {
    expect(
      reasonParts('cell ab12 failed before defining `x` (cell ab123 too)', [
        'ab12',
        'ab123',
        'zz'
      ])
    ).toEqual([
      { text: 'cell ' },
      { cellId: 'ab12' },
      { text: ' failed before defining `x` (cell ' },
      { cellId: 'ab123' },
      { text: ' too)' }
    ]);
    expect(reasonParts('no cell here', ['ab12'])).toEqual([
      { text: 'no cell here' }
    ]);
    expect(reasonParts('', ['ab12'])).toEqual([]);
  });
});

describe('cellLabel', () => {
  it('names a cell by its prompt number, else by its position', () => {
    expect(cellLabel(4, 3)).toBe('[3]');
    expect(cellLabel(4, null)).toBe('#5');
    expect(cellLabel(-1, null)).toBe('a deleted cell');
  });
});

describe('splitCode', () => {
  it('takes the backticks off names, marking them as code', () => {
    expect(splitCode('before defining `x`, `y`.')).toEqual([
      { text: 'before defining ', code: false },
      { text: 'x', code: true },
      { text: ', ', code: false },
      { text: 'y', code: true },
      { text: '.', code: false }
    ]);
  });
});
