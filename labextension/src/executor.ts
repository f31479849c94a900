/**
 * How cells run (`INotebookCellExecutor`, one for the whole application).
 *
 * A code cell of a reactive notebook asks the server for a reactive run: the cell and
 * every cell that depends on it, in a kernel shared with the tab; outputs arrive through
 * the shared document. Markdown and raw cells, and every cell of a plain notebook, run
 * as stock JupyterLab runs them (or through jupyter-collaboration's server executor when
 * the server turned `serverSideExecution` on): our server hears nothing of them.
 */
import { Notification } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { INotebookCellExecutor, runCell } from '@jupyterlab/notebook';

import { ReactiveAPI, ReactiveAPIError } from './api';
import { isReactive, ReactiveNotebooks } from './notebooks';

/** The executor of plain notebooks: what JupyterLab would use without us. */
export async function stockExecutor(
  api: ReactiveAPI
): Promise<INotebookCellExecutor> {
  if (PageConfig.getOption('serverSideExecution') === 'true') {
    try {
      // Shared by jupyter-collaboration's front end (never bundled here).
      const { NotebookCellServerExecutor } =
        await import('@jupyter/docprovider');
      return new NotebookCellServerExecutor({
        serverSettings: api.serverSettings
      });
    } catch (error) {
      Notification.warning(
        'The server runs cells of plain notebooks itself (serverSideExecution), but ' +
          "jupyter-collaboration's executor could not be loaded: plain notebooks run " +
          `from this page. (${error instanceof Error ? error.message : String(error)})`
      );
    }
  }
  return Object.freeze({ runCell });
}

export class ReactiveCellExecutor implements INotebookCellExecutor {
  constructor(
    private readonly _notebooks: ReactiveNotebooks,
    private readonly _fallback: Promise<INotebookCellExecutor>
  ) {}

  async runCell(
    options: INotebookCellExecutor.IRunCellOptions
  ): Promise<boolean> {
    const { cell, notebook } = options;
    const panel = this._notebooks.panelOf(notebook);
    if (!panel || !isReactive(notebook) || cell.model.type !== 'code') {
      return (await this._fallback).runCell(options);
    }
    options.onCellExecutionScheduled({ cell });
    const cellId = cell.model.id;
    let success = false;
    try {
      const connection = await this._notebooks.connect(panel);
      const watch = connection.state.watchRun(cellId);
      try {
        await connection.runs.add(cellId, cell.model.sharedModel.getSource());
      } catch (error) {
        watch.cancel();
        throw error;
      }
      success = (await watch.done) === 'success';
      options.onCellExecuted({ cell, success });
    } catch (error) {
      const message = describe(error);
      Notification.error(`The cell could not run: ${message}`, {
        autoClose: 8000
      });
      options.onCellExecuted({ cell, success: false });
    }
    return success;
  }
}

function describe(error: unknown): string {
  if (error instanceof ReactiveAPIError) {
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
