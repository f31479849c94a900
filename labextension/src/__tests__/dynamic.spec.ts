import { dynamicNote } from '../dynamic';
import { ReactiveState } from '../state';
import { cell, notebook } from './fixtures';

describe('dynamicNote', () => {
  it('says why a cell reads names dynamically, with what that means', () => {
    const note = dynamicNote({
      dynamic: 'reads names dynamically (eval in show)'
    });
    expect(note).not.toBeNull();
    expect(note!.text).toBe('reads names dynamically (eval in show)');
    expect(note!.title).toContain('(eval in show)');
    expect(note!.title).toContain('every name defined by the cells above it');
  });

  it('shows nothing for a cell without dynamic access, or from an older server', () => {
    expect(dynamicNote({ dynamic: null })).toBeNull();
    expect(dynamicNote({})).toBeNull();
    expect(dynamicNote({ dynamic: '  ' })).toBeNull();
  });
});

describe('the reactive state keeps the dynamic reason of each cell', () => {
  it('from the snapshot, and as cell_updated changes it', () => {
    const model = new ReactiveState();
    model.apply({
      type: 'snapshot',
      seq: 1,
      revision: 1,
      notebook: notebook(
        [
          cell('a', 'x = 1', { writes: ['x'] }),
          cell('b', 'show("x")', {
            reads: ['show'],
            dynamic: 'reads names dynamically (eval in show)'
          }),
          cell('c', 'x')
        ],
        1
      )
    });
    expect(model.cell('b')!.dynamic).toBe(
      'reads names dynamically (eval in show)'
    );
    expect(model.cell('c')!.dynamic).toBeNull();
    model.apply({
      type: 'cell_updated',
      seq: 2,
      revision: 2,
      cell_id: 'b',
      cell: cell('b', 'show("x")', { reads: ['show'], dynamic: null })
    });
    expect(model.cell('b')!.dynamic).toBeNull();
    expect(dynamicNote(model.cell('b')!)).toBeNull();
  });
});
