import { ReactiveState } from '../state';
import { CellStatus, IServerEvent } from '../types';
import { cell, notebook } from './fixtures';

function loaded(): ReactiveState {
  const state = new ReactiveState();
  state.apply({
    type: 'snapshot',
    seq: 1,
    revision: 1,
    kernel_state: 'idle',
    notebook: notebook([
      cell('a', 'x = 1', { writes: ['x'] }),
      cell('b', 'y = x', { writes: ['y'], reads: ['x'] }),
      cell('c', 'x = 2\nprint(y)', { writes: ['x'], reads: ['y'] })
    ])
  });
  return state;
}

const status = (
  seq: number,
  cellId: string,
  value: CellStatus,
  extra: Partial<IServerEvent> = {}
): IServerEvent =>
  ({
    type: 'cell_status',
    seq,
    cell_id: cellId,
    status: value,
    ...extra
  }) as IServerEvent;

describe('ReactiveState', () => {
  it('takes a snapshot, then statuses, stale marks and reasons in order', () => {
    const state = loaded();
    expect(state.loaded).toBe(true);
    expect(state.kernelState).toBe('idle');
    state.apply({
      type: 'batch',
      seq: 3,
      events: [
        status(2, 'a', 'error', {
          error: 'ZeroDivisionError: division by zero'
        }),
        status(3, 'b', 'blocked', {
          stale: true,
          error: 'cell a failed before defining `x`'
        })
      ]
    });
    expect(state.cell('a')).toMatchObject({
      status: 'error',
      error: 'ZeroDivisionError: division by zero'
    });
    expect(state.cell('b')).toMatchObject({ status: 'blocked', stale: true });
    // An event already applied (a resume that overlaps) changes nothing.
    state.apply(status(3, 'b', 'success'));
    expect(state.cell('b')!.status).toBe('blocked');
    // A run that succeeds clears the reason.
    state.apply(status(4, 'a', 'success', { stale: false }));
    expect(state.cell('a')!.error).toBeNull();
  });

  it('links a read to the nearest cell above that writes it, else one below', () => {
    const state = loaded();
    expect(state.definerOf('b', 'x')!.id).toBe('a');
    expect(state.definerOf('a', 'y')!.id).toBe('b');
    expect(state.definerOf('b', 'nope')).toBeNull();
    state.apply({ type: 'cell_moved', seq: 2, cell_id: 'c', index: 0 });
    expect(state.cells.map(c => c.id)).toEqual(['c', 'a', 'b']);
    expect(state.definerOf('b', 'x')!.id).toBe('a');
    state.apply({ type: 'cell_deleted', seq: 3, cell_id: 'a' });
    expect(state.definerOf('b', 'x')!.id).toBe('c');
  });

  it('follows cells created and updated elsewhere', () => {
    const state = loaded();
    const changes: string[] = [];
    state.changed.connect((_, change) => changes.push(change.kind));
    state.apply({
      type: 'cell_created',
      seq: 2,
      cell_id: 'd',
      index: 1,
      cell: cell('d', 'z = 3', { writes: ['z'] })
    });
    state.apply({
      type: 'cell_updated',
      seq: 3,
      cell_id: 'b',
      cell: cell('b', 'y = z', { writes: ['y'], reads: ['z'] })
    });
    expect(state.cells.map(c => c.id)).toEqual(['a', 'd', 'b', 'c']);
    expect(state.definerOf('b', 'z')!.id).toBe('d');
    expect(changes).toEqual(['order', 'order']);
  });

  it('ignores outputs: they reach the tab through the shared document', () => {
    const state = loaded();
    const changes: string[] = [];
    state.changed.connect((_, change) => changes.push(change.kind));
    state.apply({ type: 'cell_stdout', seq: 2, cell_id: 'a', data: 'hi' });
    state.apply({ type: 'cell_cleared', seq: 3, cell_id: 'a' });
    expect(changes).toEqual([]);
  });
});

describe('ReactiveState.watchRun', () => {
  it('resolves with the status the cell ends its next run with', async () => {
    const state = loaded();
    const watch = state.watchRun('b');
    // A status of a run that began before the watch does not end it.
    state.apply(status(2, 'b', 'success'));
    state.apply(status(3, 'b', 'queued'));
    state.apply(status(4, 'b', 'running'));
    state.apply(status(5, 'a', 'success'));
    state.apply(status(6, 'b', 'error', { error: 'NameError: x' }));
    await expect(watch.done).resolves.toBe('error');
  });

  it('ends with blocked for a cell that could not run', async () => {
    const state = loaded();
    const watch = state.watchRun('c');
    state.apply(status(2, 'c', 'queued'));
    state.apply(status(3, 'c', 'blocked', { error: 'cell a failed' }));
    await expect(watch.done).resolves.toBe('blocked');
  });

  it('takes a snapshot after a reconnection as the end of a run it saw start', async () => {
    const state = loaded();
    const watch = state.watchRun('a');
    state.apply(status(2, 'a', 'running'));
    state.apply({
      type: 'snapshot',
      seq: 10,
      notebook: notebook([cell('a', 'x = 1', { status: 'success' })])
    });
    await expect(watch.done).resolves.toBe('success');
  });

  it('resolves with null when cancelled, when the cell is deleted or the state disposed', async () => {
    const state = loaded();
    const cancelled = state.watchRun('a');
    const deleted = state.watchRun('b');
    const disposed = state.watchRun('c');
    cancelled.cancel();
    state.apply({ type: 'cell_deleted', seq: 2, cell_id: 'b' });
    state.dispose();
    await expect(cancelled.done).resolves.toBeNull();
    await expect(deleted.done).resolves.toBeNull();
    await expect(disposed.done).resolves.toBeNull();
  });
});
