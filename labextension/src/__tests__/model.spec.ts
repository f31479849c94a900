import { ModelChange, ReactiveNotebookModel } from '../model';
import { ICell, IServerEvent } from '../types';
import { cell, notebook } from './fixtures';

function loaded(): { model: ReactiveNotebookModel; changes: ModelChange[] } {
  const model = new ReactiveNotebookModel('nb1');
  model.apply({
    type: 'snapshot',
    seq: 100,
    revision: 3,
    notebook: notebook(
      [cell('a', 'x = 1', { writes: ['x'] }), cell('b', 'y = x + 1')],
      3
    )
  });
  const changes: ModelChange[] = [];
  model.changed.connect((_, change) => changes.push(change));
  return { model, changes };
}

describe('ReactiveNotebookModel', () => {
  it('loads a snapshot', () => {
    const { model } = loaded();
    expect(model.loaded).toBe(true);
    expect(model.name).toBe('Demo');
    expect(model.revision).toBe(3);
    expect(model.seq).toBe(100);
    expect(model.cells.map(c => c.id)).toEqual(['a', 'b']);
    expect(model.cell('a')!.writes).toEqual(['x']);
  });

  it('applies cell_status, with stale and the reason of a blocked cell', () => {
    const { model, changes } = loaded();
    model.apply({
      type: 'cell_status',
      seq: 101,
      revision: 3,
      cell_id: 'a',
      status: 'queued',
      stale: true
    });
    expect(model.cell('a')!.status).toBe('queued');
    expect(model.cell('a')!.stale).toBe(true);
    model.apply({
      type: 'cell_status',
      seq: 102,
      cell_id: 'b',
      status: 'blocked',
      stale: true,
      error: 'cell a failed'
    });
    expect(model.cell('b')!.error).toBe('cell a failed');
    model.apply({
      type: 'cell_status',
      seq: 103,
      cell_id: 'b',
      status: 'success',
      stale: false
    });
    expect(model.cell('b')!.error).toBeNull();
    expect(changes).toContainEqual({ kind: 'cell', cellId: 'a' });
  });

  it('clears what a cell showed when a new run starts', () => {
    const { model } = loaded();
    model.apply({
      type: 'cell_stdout',
      seq: 101,
      cell_id: 'a',
      name: 'stdout',
      data: 'old\n'
    });
    model.apply({
      type: 'cell_output',
      seq: 102,
      cell_id: 'a',
      output: { mime_type: 'text/plain', data: '1', metadata: {} }
    });
    model.apply({
      type: 'cell_status',
      seq: 103,
      cell_id: 'a',
      status: 'running'
    });
    expect(model.cell('a')!.stdout).toBe('');
    expect(model.cell('a')!.outputs).toEqual([]);
    // An output of the running cell stays when its status is repeated.
    model.apply({
      type: 'cell_output',
      seq: 104,
      cell_id: 'a',
      output: { mime_type: 'text/plain', data: '2', metadata: {} }
    });
    model.apply({
      type: 'cell_status',
      seq: 105,
      cell_id: 'a',
      status: 'running'
    });
    expect(model.cell('a')!.outputs).toHaveLength(1);
  });

  it('keeps the trust the server gives a cell; a run makes the cell trusted', () => {
    const model = new ReactiveNotebookModel('nb1');
    const stored = { mime_type: 'text/html', data: '<b>old</b>', metadata: {} };
    model.apply({
      type: 'snapshot',
      seq: 1,
      notebook: notebook([
        cell('a', 'x = 1', { outputs: [stored], trusted: false }),
        cell('b', 'y = 2', { outputs: [stored], trusted: true })
      ])
    });
    expect(model.cells.map(c => c.trusted)).toEqual([false, true]);
    model.apply({
      type: 'cell_status',
      seq: 2,
      cell_id: 'a',
      status: 'running'
    });
    expect(model.cell('a')!.outputs).toEqual([]);
    expect(model.cell('a')!.trusted).toBe(true);
    model.apply({
      type: 'cell_output',
      seq: 3,
      cell_id: 'a',
      output: { mime_type: 'text/html', data: '<b>new</b>', metadata: {} },
      trusted: true
    });
    expect(model.cell('a')!.trusted).toBe(true);
    // An output the server does not say is trusted makes the cell untrusted.
    model.apply({
      type: 'cell_output',
      seq: 4,
      cell_id: 'b',
      output: { mime_type: 'text/html', data: '<b>?</b>', metadata: {} }
    });
    expect(model.cell('b')!.trusted).toBe(false);
    // cell_updated and cell_created carry the server's word.
    model.apply({
      type: 'cell_updated',
      seq: 5,
      cell_id: 'a',
      cell: cell('a', 'x = 2', { trusted: false })
    });
    expect(model.cell('a')!.trusted).toBe(false);
    model.apply({
      type: 'cell_created',
      seq: 6,
      cell_id: 'c',
      index: 2,
      cell: cell('c', '', { trusted: true })
    });
    expect(model.cell('c')!.trusted).toBe(true);
  });

  it('treats a cell without a trust flag as untrusted', () => {
    const model = new ReactiveNotebookModel('nb1');
    const legacy = { ...cell('a', 'x = 1') } as Partial<ICell>;
    delete legacy.trusted;
    model.load(notebook([legacy as ICell]));
    expect(model.cell('a')!.trusted).toBe(false);
  });

  it('appends stdout and stderr chunks separately', () => {
    const { model } = loaded();
    model.apply({
      type: 'cell_stdout',
      seq: 101,
      cell_id: 'a',
      name: 'stdout',
      data: 'he'
    });
    model.apply({
      type: 'cell_stdout',
      seq: 102,
      cell_id: 'a',
      name: 'stdout',
      data: 'llo'
    });
    model.apply({
      type: 'cell_stdout',
      seq: 103,
      cell_id: 'a',
      name: 'stderr',
      data: 'warn'
    });
    expect(model.cell('a')!.stdout).toBe('hello');
    expect(model.cell('a')!.stderr).toBe('warn');
  });

  it('applies cell_output, cell_error and cell_cleared', () => {
    const { model } = loaded();
    const table = {
      type: 'table',
      columns: ['a'],
      rows: [[1]],
      truncated: 'showing 1 of 9 rows'
    };
    model.apply({
      type: 'cell_output',
      seq: 101,
      cell_id: 'a',
      output: { mime_type: 'application/json', data: table, metadata: {} }
    });
    expect(model.cell('a')!.outputs[0].data).toEqual(table);
    const error = {
      ename: 'NameError',
      evalue: "name 'z' is not defined",
      traceback: ['tb']
    };
    model.apply({ type: 'cell_error', seq: 102, cell_id: 'a', error });
    expect(model.cell('a')!.traceback).toEqual(error);
    model.apply({ type: 'cell_cleared', seq: 103, cell_id: 'a' });
    expect(model.cell('a')!.outputs).toEqual([]);
  });

  it('applies cell_output_updated to the outputs of that display id only', () => {
    const { model, changes } = loaded();
    const shown = (data: string, displayId?: string) => ({
      mime_type: 'text/plain',
      data,
      metadata: displayId ? { display_id: displayId } : {}
    });
    model.apply({
      type: 'cell_status',
      seq: 101,
      cell_id: 'a',
      status: 'running'
    });
    model.apply({
      type: 'cell_output',
      seq: 102,
      cell_id: 'a',
      output: shown('0%', 'bar'),
      trusted: true
    });
    model.apply({
      type: 'cell_output',
      seq: 103,
      cell_id: 'a',
      output: shown('other'),
      trusted: true
    });
    model.apply({
      type: 'cell_output',
      seq: 104,
      cell_id: 'a',
      output: shown('0%', 'bar'),
      trusted: true
    });
    // An update sent while another cell runs: replaces, never appends.
    changes.length = 0;
    model.apply({
      type: 'cell_output_updated',
      seq: 105,
      cell_id: 'a',
      display_id: 'bar',
      output: shown('100%', 'bar'),
      trusted: true
    });
    expect(model.cell('a')!.outputs.map(o => o.data)).toEqual([
      '100%',
      'other',
      '100%'
    ]);
    expect(model.cell('a')!.trusted).toBe(true);
    expect(changes).toEqual([{ kind: 'cell', cellId: 'a' }]);
    // An id the cell does not show changes nothing.
    changes.length = 0;
    model.apply({
      type: 'cell_output_updated',
      seq: 106,
      cell_id: 'a',
      display_id: 'elsewhere',
      output: shown('x', 'elsewhere'),
      trusted: true
    });
    expect(model.cell('a')!.outputs.map(o => o.data)).toEqual([
      '100%',
      'other',
      '100%'
    ]);
    expect(changes).toEqual([]);
    // An update the server does not vouch for makes the cell untrusted.
    model.apply({
      type: 'cell_output_updated',
      seq: 107,
      cell_id: 'a',
      display_id: 'bar',
      output: shown('<b>?</b>', 'bar')
    });
    expect(model.cell('a')!.trusted).toBe(false);
  });

  it('applies cell_created, cell_moved and cell_deleted', () => {
    const { model, changes } = loaded();
    model.apply({
      type: 'cell_created',
      seq: 101,
      revision: 4,
      cell_id: 'c',
      index: 1,
      cell: cell('c', 'z = 3')
    });
    expect(model.cells.map(c => c.id)).toEqual(['a', 'c', 'b']);
    expect(model.revision).toBe(4);
    model.apply({
      type: 'cell_moved',
      seq: 102,
      revision: 5,
      cell_id: 'a',
      index: 2
    });
    expect(model.cells.map(c => c.id)).toEqual(['c', 'b', 'a']);
    model.apply({ type: 'cell_deleted', seq: 103, revision: 6, cell_id: 'b' });
    expect(model.cells.map(c => c.id)).toEqual(['c', 'a']);
    expect(model.revision).toBe(6);
    expect(changes.map(c => c.kind)).toEqual([
      'cell-created',
      'cell-moved',
      'cell-deleted'
    ]);
  });

  it('applies cell_updated when nobody edits the cell', () => {
    const { model } = loaded();
    model.apply({
      type: 'cell_updated',
      seq: 101,
      revision: 4,
      cell_id: 'b',
      cell: cell('b', 'y = x + 2', { reads: ['x'] })
    });
    expect(model.cell('b')!.code).toBe('y = x + 2');
    expect(model.cell('b')!.reads).toEqual(['x']);
    expect(model.conflict('b')).toBeNull();
  });

  it('applies notebook_updated, kernel_status, notebook_deleted and error', () => {
    const { model, changes } = loaded();
    model.apply({ type: 'notebook_updated', seq: 101, name: 'Renamed' });
    model.apply({
      type: 'notebook_updated',
      seq: 102,
      db_conn_string: 'postgresql://u:***@h/db'
    });
    model.apply({ type: 'kernel_status', seq: 103, state: 'busy' });
    model.apply({ type: 'error', seq: 104, message: 'save failed' });
    model.apply({ type: 'error', message: 'refused', request_id: 'r1' });
    model.apply({ type: 'notebook_deleted', seq: 105 });
    expect(model.name).toBe('Renamed');
    expect(model.dbConnString).toBe('postgresql://u:***@h/db');
    expect(model.kernelState).toBe('busy');
    expect(model.deleted).toBe(true);
    expect(changes).toContainEqual({ kind: 'error', message: 'save failed' });
    expect(changes.filter(c => c.kind === 'error')).toHaveLength(1);
  });

  it("takes the kernel's state from a snapshot that carries it", () => {
    const model = new ReactiveNotebookModel('nb1');
    const changes: ModelChange[] = [];
    model.changed.connect((_, change) => changes.push(change));
    model.apply({
      type: 'snapshot',
      seq: 5,
      notebook: notebook([]),
      kernel_state: 'busy'
    });
    expect(model.kernelState).toBe('busy');
    expect(changes).toContainEqual({ kind: 'kernel', state: 'busy' });
    // null: no kernel started (e.g. after a server restart).
    model.apply({
      type: 'snapshot',
      seq: 1,
      notebook: notebook([]),
      kernel_state: null
    });
    expect(model.kernelState).toBe('unknown');
    // A snapshot without the field (an older server) leaves the state as it was.
    model.apply({ type: 'kernel_status', seq: 2, state: 'idle' });
    model.apply({ type: 'snapshot', seq: 3, notebook: notebook([]) });
    expect(model.kernelState).toBe('idle');
  });

  it('applies a batch frame in order and ignores events for unknown cells', () => {
    const { model } = loaded();
    const batch: IServerEvent = {
      type: 'batch',
      events: [
        {
          type: 'cell_status',
          seq: 101,
          revision: 3,
          cell_id: 'a',
          status: 'queued'
        },
        {
          type: 'cell_status',
          seq: 102,
          revision: 3,
          cell_id: 'a',
          status: 'running'
        },
        {
          type: 'cell_status',
          seq: 103,
          revision: 3,
          cell_id: 'zz',
          status: 'running'
        },
        {
          type: 'cell_status',
          seq: 104,
          revision: 3,
          cell_id: 'a',
          status: 'success'
        }
      ]
    };
    model.apply(batch);
    expect(model.cell('a')!.status).toBe('success');
    expect(model.seq).toBe(104);
  });

  it('skips events it already applied (an overlapping resume)', () => {
    const { model } = loaded();
    model.apply({ type: 'cell_stdout', seq: 101, cell_id: 'a', data: 'once' });
    model.apply({ type: 'resumed', seq: 101 });
    model.apply({ type: 'cell_stdout', seq: 101, cell_id: 'a', data: 'once' });
    expect(model.cell('a')!.stdout).toBe('once');
  });

  it('replaces its state on a snapshot (but not on resumed)', () => {
    const { model } = loaded();
    model.apply({ type: 'resumed', seq: 120 });
    expect(model.cells).toHaveLength(2);
    model.apply({
      type: 'snapshot',
      seq: 5,
      notebook: notebook([cell('q', 'q = 1')], 9)
    });
    expect(model.cells.map(c => c.id)).toEqual(['q']);
    expect(model.revision).toBe(9);
    // The sequence restarted with the snapshot (a server restart): newer events apply.
    model.apply({
      type: 'cell_status',
      seq: 6,
      cell_id: 'q',
      status: 'queued'
    });
    expect(model.cell('q')!.status).toBe('queued');
  });

  describe('conflicts', () => {
    it('keeps the code being typed and records the remote one as a conflict', () => {
      const { model, changes } = loaded();
      model.beginEdit('a');
      model.setLocalCode('a', 'x = 10');
      model.apply({
        type: 'cell_updated',
        seq: 101,
        revision: 4,
        cell_id: 'a',
        cell: cell('a', 'x = 99', { writes: ['x'] })
      });
      expect(model.cell('a')!.code).toBe('x = 10');
      expect(model.conflict('a')).toEqual({
        cellId: 'a',
        local: 'x = 10',
        remote: 'x = 99',
        revision: 4
      });
      expect(changes).toContainEqual({
        kind: 'conflict',
        cellId: 'a',
        conflict: model.conflict('a')
      });
    });

    it('does not take its own echo for a conflict', () => {
      const { model } = loaded();
      model.setLocalCode('a', 'x = 1');
      model.noteSent('a', 'x = 1');
      model.setLocalCode('a', 'x = 12'); // typed on while the echo was on its way
      model.apply({
        type: 'cell_updated',
        seq: 101,
        revision: 4,
        cell_id: 'a',
        cell: cell('a', 'x = 1')
      });
      expect(model.conflict('a')).toBeNull();
      expect(model.cell('a')!.code).toBe('x = 12');
    });

    it('keeps the code being typed through a snapshot', () => {
      const { model } = loaded();
      model.setLocalCode('b', 'y = 0');
      model.apply({
        type: 'snapshot',
        seq: 200,
        notebook: notebook([cell('a', 'x = 1'), cell('b', 'y = 5')], 8)
      });
      expect(model.cell('b')!.code).toBe('y = 0');
      expect(model.conflict('b')!.remote).toBe('y = 5');
    });

    it('applies remote code again once the user left the cell, and resolves', () => {
      const { model } = loaded();
      model.setLocalCode('a', 'x = 10');
      model.apply({
        type: 'cell_updated',
        seq: 101,
        cell_id: 'a',
        cell: cell('a', 'x = 99')
      });
      model.resolveConflict('a', 'remote');
      expect(model.cell('a')!.code).toBe('x = 99');
      expect(model.conflict('a')).toBeNull();
      model.endEdit('a');
      model.apply({
        type: 'cell_updated',
        seq: 102,
        cell_id: 'a',
        cell: cell('a', 'x = 7')
      });
      expect(model.cell('a')!.code).toBe('x = 7');
      expect(model.conflict('a')).toBeNull();
    });

    it('keeps the local side when asked', () => {
      const { model } = loaded();
      model.setLocalCode('a', 'x = 10');
      model.apply({
        type: 'cell_updated',
        seq: 101,
        cell_id: 'a',
        cell: cell('a', 'x = 99')
      });
      model.resolveConflict('a', 'local');
      expect(model.cell('a')!.code).toBe('x = 10');
      expect(model.conflict('a')).toBeNull();
    });
  });

  it('finds the cell a name comes from: the nearest writer above, else below', () => {
    const model = new ReactiveNotebookModel('nb2');
    model.load(
      notebook(
        [
          cell('a', 'x = 1', { writes: ['x'] }),
          cell('b', 'x = 2', { writes: ['x'] }),
          cell('c', 'y = x + z', { reads: ['x', 'z'], writes: ['y'] }),
          cell('d', 'z = 3', { writes: ['z'] })
        ],
        1
      )
    );
    expect(model.definerOf('c', 'x')!.id).toBe('b');
    expect(model.definerOf('c', 'z')!.id).toBe('d');
    expect(model.definerOf('c', 'nowhere')).toBeNull();
    expect(model.definerOf('gone', 'x')).toBeNull();
    expect(model.cellAbove('a')).toBeNull();
    expect(model.cellAbove('c')).toBe('b');
  });

  it("loads a failed cell's traceback from the snapshot (a notebook opened later)", () => {
    const model = new ReactiveNotebookModel('nb3');
    const error = { ename: 'ValueError', evalue: 'bad', traceback: ['line 1'] };
    model.load(
      notebook([
        cell('a', 'raise ValueError("bad")', {
          status: 'error',
          traceback: error
        })
      ])
    );
    expect(model.cell('a')!.traceback).toEqual(error);
  });
});
