/**
 * Cells as a person finds them in a notebook: the label a link shows (the prompt number
 * they see, else the position) and going to the cell a link names. Shared by the cells'
 * footers and the chat panel.
 */
import { ICodeCellModel } from '@jupyterlab/cells';
import { Notebook } from '@jupyterlab/notebook';

import { cellLabel } from './reasons';

/** The label of cell `cellId` in `notebook` (`cellLabel(-1, null)` when it is not there). */
export function labelOfCell(notebook: Notebook | null, cellId: string): string {
  const widgets = notebook?.widgets ?? [];
  const index = widgets.findIndex(widget => widget.model.id === cellId);
  const model = index >= 0 ? widgets[index].model : null;
  const count =
    model && model.type === 'code'
      ? (model as ICodeCellModel).executionCount
      : null;
  return cellLabel(index, count);
}

/** Select cell `cellId` alone and scroll it into view; false when it is not there. */
export function revealCell(notebook: Notebook, cellId: string): boolean {
  const index = notebook.widgets.findIndex(w => w.model.id === cellId);
  if (index < 0) {
    return false;
  }
  notebook.deselectAll();
  notebook.activeCellIndex = index;
  void notebook.scrollToCell(notebook.widgets[index], 'center');
  return true;
}
