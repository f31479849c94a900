/**
 * The `reactive-notebook:*` commands: a new reactive notebook, the reactive toggle of a
 * notebook, SQL and Python cells, the notebook's settings. They act on JupyterLab's own
 * notebook (the current one of the notebook tracker).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { notebookIcon, settingsIcon } from '@jupyterlab/ui-components';

import { ReactiveAPI } from './api';
import { followMove } from './follow-move';
import { createNotebookIn } from './new-notebook';
import { openNotebookSettings } from './notebook-settings';
import { isReactive, REACTIVE_KEY, ReactiveNotebooks } from './notebooks';
import { isSqlCell, setCellLanguage } from './sql';

export const CommandIDs = {
  createNew: 'reactive-notebook:create-new',
  toggleReactive: 'reactive-notebook:toggle-reactive',
  toSql: 'reactive-notebook:change-cell-to-sql',
  toPython: 'reactive-notebook:change-cell-to-python',
  toggleSql: 'reactive-notebook:toggle-cell-sql',
  notebookSettings: 'reactive-notebook:notebook-settings'
} as const;

export interface ICommandsOptions {
  app: JupyterFrontEnd;
  api: ReactiveAPI;
  tracker: INotebookTracker;
  notebooks: ReactiveNotebooks;
  /** The folder the user is in (the file browser's), for a new notebook. */
  currentFolder: () => string | undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function addCommands(options: ICommandsOptions): void {
  const { app, api, tracker, notebooks } = options;
  const { commands } = app;
  const current = (): NotebookPanel | null => tracker.currentWidget;
  const reactive = (): NotebookPanel | null => {
    const panel = current();
    return panel && isReactive(panel.model) ? panel : null;
  };
  /** The selected code cells of the current reactive notebook. */
  const selectedCode = () => {
    const panel = reactive();
    if (!panel) {
      return [];
    }
    const notebook = panel.content;
    return notebook.widgets.filter(
      cell =>
        cell.model.type === 'code' &&
        (notebook.isSelectedOrActive(cell) || cell === notebook.activeCell)
    );
  };

  commands.addCommand(CommandIDs.createNew, {
    label: args =>
      args.isLauncher || args.isPalette
        ? 'New Reactive Notebook'
        : 'Reactive Notebook',
    caption:
      'Create a reactive notebook: cells re-run when what they read changes',
    icon: args => (args.isPalette ? undefined : notebookIcon),
    execute: async args => {
      // Where the user is: the launcher's folder, else the file browser's.
      const folder =
        typeof args.cwd === 'string' ? args.cwd : options.currentFolder();
      try {
        const { created, refusedFolder } = await createNotebookIn(api, folder);
        if (refusedFolder !== undefined) {
          Notification.info(
            `The notebook is in your notebooks folder: ${refusedFolder}`,
            { autoClose: 8000 }
          );
        }
        // A new notebook opens with one empty Python cell to type into.
        await api.createCell(created.notebook_id, { type: 'python' });
        if (!created.path) {
          Notification.warning(
            'The notebook was created, but the server did not say where: open it from the file browser.'
          );
          return;
        }
        await commands.execute('docmanager:open', { path: created.path });
      } catch (error) {
        Notification.error(
          `Could not create a reactive notebook: ${messageOf(error)}`
        );
      }
    }
  });

  /** Whether the current reactive notebook has lost its connection to the server. */
  const offline = (): boolean => {
    const panel = reactive();
    const connection = panel ? notebooks.connection(panel) : null;
    return connection?.offline ?? false;
  };
  commands.addCommand(CommandIDs.toggleReactive, {
    label: args =>
      args.isPalette
        ? 'Toggle Reactive Notebook'
        : offline()
          ? 'Reactive (reconnecting…)'
          : 'Reactive',
    caption: () =>
      offline()
        ? 'The connection to the server is down: runs and their marks wait until it is back (reconnecting)'
        : 'Reactive: running a cell re-runs the cells that depend on it (off: runs as plain Jupyter)',
    className: () => (offline() ? 'jp-mod-reactiveOffline' : ''),
    isEnabled: () => current()?.model !== null && current() !== null,
    isToggled: () => isReactive(current()?.model),
    execute: () => {
      const model = current()?.model;
      if (!model) {
        return;
      }
      if (isReactive(model)) {
        model.deleteMetadata(REACTIVE_KEY);
      } else {
        // The server fills in the notebook's id, name and revision.
        model.setMetadata(REACTIVE_KEY, {});
      }
      commands.notifyCommandChanged(CommandIDs.toggleReactive);
    }
  });
  const refreshToggle = () =>
    commands.notifyCommandChanged(CommandIDs.toggleReactive);
  tracker.currentChanged.connect(refreshToggle);
  notebooks.statusChanged.connect(refreshToggle);
  notebooks.connectionChanged.connect(refreshToggle);
  tracker.widgetAdded.connect((_, panel) => {
    void panel.context.ready.then(() =>
      panel.model?.metadataChanged.connect((__, change) => {
        if (change.key === REACTIVE_KEY) {
          commands.notifyCommandChanged(CommandIDs.toggleReactive);
          commands.notifyCommandChanged(CommandIDs.toSql);
          commands.notifyCommandChanged(CommandIDs.toggleSql);
        }
      })
    );
  });

  commands.addCommand(CommandIDs.toSql, {
    label: 'Change to SQL',
    caption:
      'Make the selected code cells SQL cells (their result goes into a variable)',
    isEnabled: () => selectedCode().length > 0,
    execute: () => {
      for (const cell of selectedCode()) {
        setCellLanguage(cell.model, 'sql');
      }
    }
  });
  commands.addCommand(CommandIDs.toPython, {
    label: 'Change to Python',
    caption: 'Make the selected SQL cells Python cells again',
    isEnabled: () => selectedCode().some(cell => isSqlCell(cell.model)),
    execute: () => {
      for (const cell of selectedCode()) {
        setCellLanguage(cell.model, 'python');
      }
    }
  });
  commands.addCommand(CommandIDs.toggleSql, {
    label: 'Toggle SQL / Python',
    caption: 'SQL cells become Python and Python cells SQL (command mode: Q)',
    isEnabled: () => selectedCode().length > 0,
    execute: () => {
      const cells = selectedCode();
      const toSql = !cells.every(cell => isSqlCell(cell.model));
      for (const cell of cells) {
        setCellLanguage(cell.model, toSql ? 'sql' : 'python');
      }
    }
  });

  commands.addCommand(CommandIDs.notebookSettings, {
    label: 'Notebook Settings…',
    caption: "The reactive notebook's name and database connection",
    icon: args => (args.isPalette ? undefined : settingsIcon),
    isEnabled: () => reactive() !== null,
    execute: async () => {
      const panel = reactive();
      if (!panel) {
        return;
      }
      try {
        const connection = await notebooks.connect(panel);
        await openNotebookSettings(connection, api, {
          // The server renamed the file after the new name: the tab follows it.
          moved: async path => {
            await followMove(panel, path, {
              open: target =>
                commands.execute('docmanager:open', { path: target })
            });
          }
        });
      } catch (error) {
        Notification.error(`Notebook Settings: ${messageOf(error)}`);
      }
    }
  });
}
