/**
 * The `runOn` setting: besides Shift+Enter, an edited cell of a reactive notebook runs
 * when the user leaves it (`blur`, the default) or as they type, after a pause
 * (`typing`). Only a code cell whose source changed since it was entered runs; moving
 * through cells without editing runs nothing.
 */
import { Cell } from '@jupyterlab/cells';
import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';

import { isReactive } from './notebooks';
import { IReactiveSettings } from './settings';

/** Ask for a reactive run of `cell` (the executor's path, without the stock actions). */
export type RunCell = (panel: NotebookPanel, cell: Cell) => void;

/** Follow one panel's active cell and edits; disconnects when the panel goes. */
export function followRunOn(
  panel: NotebookPanel,
  settings: () => IReactiveSettings,
  run: RunCell
): void {
  const notebook = panel.content;
  let active: Cell | null = null;
  let entered = '';
  let timer: ReturnType<typeof setTimeout> | null = null;

  const edited = (cell: Cell) =>
    cell.model.type === 'code' &&
    !cell.isDisposed &&
    cell.model.sharedModel.getSource() !== entered;
  const runIfEdited = (cell: Cell) => {
    // A cell that left the notebook (deleted elsewhere while it was active) is not
    // "edited": its source reads differently once removed, and there is nothing to run.
    const inNotebook =
      !cell.isDisposed &&
      notebook.widgets.includes(cell) &&
      (panel.model?.sharedModel.cells.some(c => c.id === cell.model.id) ??
        false);
    if (isReactive(panel.model) && inNotebook && edited(cell)) {
      entered = cell.model.sharedModel.getSource();
      run(panel, cell);
    }
  };
  const clearTimer = () => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  };
  const onContent = () => {
    if (settings().runOn !== 'typing' || !active) {
      return;
    }
    clearTimer();
    const cell = active;
    timer = setTimeout(() => {
      timer = null;
      if (cell === active) {
        runIfEdited(cell);
      }
    }, settings().debounce);
  };
  const enter = (cell: Cell | null) => {
    clearTimer();
    active?.model.contentChanged.disconnect(onContent);
    active = cell;
    entered = cell?.model.sharedModel.getSource() ?? '';
    cell?.model.contentChanged.connect(onContent);
  };

  notebook.activeCellChanged.connect((_, cell) => {
    const left = active;
    if (left && left !== cell && settings().runOn === 'blur') {
      runIfEdited(left);
    }
    enter(cell);
  });
  // A run from the notebook's own commands (Shift+Enter, Run All) is scheduled before
  // the active cell moves on: what the cell holds then is what ran.
  const onScheduled = (
    _: unknown,
    args: { notebook: unknown; cell: Cell }
  ): void => {
    if (args.cell === active) {
      clearTimer();
      entered = args.cell.model.sharedModel.getSource();
    }
  };
  NotebookActions.executionScheduled.connect(onScheduled);
  enter(notebook.activeCell);
  panel.disposed.connect(() => {
    NotebookActions.executionScheduled.disconnect(onScheduled);
    enter(null);
  });
}
