import { ReactiveNotebookModel } from '../model';
import { CellSaver, MAX_RESENDS } from '../saver';
import { SocketCommandError } from '../socket';
import { IClientCommand } from '../types';
import { cell, notebook } from './fixtures';

/** A notebook with cells a and b at revision 3, as a snapshot loads it. */
function setUp(): {
  model: ReactiveNotebookModel;
  sent: IClientCommand[];
  saver: CellSaver;
  answers: Array<(command: IClientCommand) => Promise<unknown>>;
} {
  const model = new ReactiveNotebookModel('nb1');
  model.load(notebook([cell('a', 'x = 1'), cell('b', 'y = 2')], 3));
  const sent: IClientCommand[] = [];
  const answers: Array<(command: IClientCommand) => Promise<unknown>> = [];
  const saver = new CellSaver(model, command => {
    sent.push(command);
    const answer = answers.shift();
    return answer ? answer(command) : Promise.resolve(null);
  });
  saver.markSaved('a', 'x = 1');
  saver.markSaved('b', 'y = 2');
  return { model, sent, saver, answers };
}

/** The server's 409: someone changed the notebook first (it is now at `revision`). */
function stale(revision: number) {
  return () =>
    Promise.reject(
      new SocketCommandError('the notebook changed', {
        type: 'error',
        message: 'the notebook changed',
        revision
      })
    );
}

describe('CellSaver', () => {
  it('sends nothing for code the server already has', async () => {
    const { saver, sent } = setUp();
    await saver.save('a');
    expect(sent).toEqual([]);
    expect(saver.isDirty('a')).toBe(false);
  });

  it('sends an edit with the revision it is based on', async () => {
    const { model, saver, sent } = setUp();
    model.beginEdit('a');
    model.setLocalCode('a', 'x = 5');
    expect(saver.isDirty('a')).toBe(true);
    await saver.save('a');
    expect(sent).toEqual([
      { type: 'cell_update', cell_id: 'a', code: 'x = 5', expected_revision: 3 }
    ]);
    expect(saver.isDirty('a')).toBe(false);
  });

  it('sends again on the new revision when another cell changed first', async () => {
    const { model, saver, sent, answers } = setUp();
    model.beginEdit('a');
    model.setLocalCode('a', 'x = 5');
    answers.push(() => {
      // Another client's edit of b reaches the model before our refusal does.
      model.apply({
        type: 'cell_updated',
        seq: 1,
        revision: 4,
        cell_id: 'b',
        cell: cell('b', 'y = 3')
      });
      return stale(4)();
    });
    await saver.save('a');
    expect(
      sent.map(c => (c as { expected_revision: number }).expected_revision)
    ).toEqual([3, 4]);
    expect(model.conflict('a')).toBeNull();
    expect(saver.isDirty('a')).toBe(false);
  });

  it('stops at a conflict when the same cell changed first: the user chooses', async () => {
    const { model, saver, sent, answers } = setUp();
    model.beginEdit('a');
    model.setLocalCode('a', 'x = 5');
    answers.push(() => {
      model.apply({
        type: 'cell_updated',
        seq: 1,
        revision: 4,
        cell_id: 'a',
        cell: cell('a', 'x = 100')
      });
      return stale(4)();
    });
    await saver.save('a');
    expect(sent).toHaveLength(1);
    expect(model.conflict('a')).toMatchObject({
      local: 'x = 5',
      remote: 'x = 100'
    });
    expect(model.cell('a')!.code).toBe('x = 5'); // the user's text stays
    expect(saver.isDirty('a')).toBe(true);
  });

  it('gives up after a few refusals, and passes other errors on', async () => {
    const { model, saver, sent, answers } = setUp();
    model.beginEdit('a');
    model.setLocalCode('a', 'x = 5');
    for (let i = 0; i <= MAX_RESENDS; i++) {
      answers.push(stale(10 + i));
    }
    await expect(saver.save('a')).rejects.toThrow('the notebook changed');
    expect(sent).toHaveLength(MAX_RESENDS + 1);

    answers.push(() =>
      Promise.reject(new SocketCommandError('The socket is closed.'))
    );
    await expect(saver.save('a')).rejects.toThrow('The socket is closed.');
  });

  it('forgets what the server has, so the next save sends', async () => {
    const { saver, sent } = setUp();
    saver.forget('b');
    await saver.save('b');
    expect(sent).toEqual([
      { type: 'cell_update', cell_id: 'b', code: 'y = 2', expected_revision: 3 }
    ]);
  });
});
