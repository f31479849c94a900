/**
 * reactive-notebook: JupyterLab's own notebook, reactive. A notebook whose metadata has
 * `reactive_notebook` runs its cells on the server, which re-runs every cell that depends
 * on them in the kernel the tab shares; everything else about the notebook is stock.
 *
 * - `executor`: how cells run (`INotebookCellExecutor`; replaces JupyterLab's and
 *   jupyter-collaboration's, which package.json disables, and falls back to them for
 *   plain notebooks);
 * - `content-factory`: stock cells with our footer (the decorations; replaces
 *   `@jupyterlab/notebook-extension:factory`);
 * - `plugin`: the reactive connections, the commands, the launcher and palette items,
 *   the error-line marks in the editors and the `runOn` setting;
 * - `vega6`: a renderer for Vega-Lite 6 (Altair 6 charts), which JupyterLab lacks.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IThemeManager,
  Notification
} from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import {
  EditorExtensionRegistry,
  IEditorExtensionRegistry
} from '@jupyterlab/codemirror';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import {
  INotebookCellExecutor,
  INotebookTracker,
  NotebookPanel
} from '@jupyterlab/notebook';
import { Cell } from '@jupyterlab/cells';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Token } from '@lumino/coreutils';

import { ReactiveAPI } from './api';
import { activateChat } from './chat-plugin';
import { addCommands, CommandIDs } from './commands';
import { errorLineField } from './editor-marks';
import { ReactiveCellExecutor, stockExecutor } from './executor';
import { ReactiveContentFactory } from './footer';
import { ReactiveNotebooks } from './notebooks';
import { followRunOn } from './run-on';
import { DEFAULT_SETTINGS, IReactiveSettings, RunOn } from './settings';
import { redrawCharts, vega6Extension } from './vega6';
import { welcomeToOpen } from './welcome';

const PLUGIN_ID = 'reactive-notebook:plugin';

/** The reactive connections of open notebooks, shared by the plugins below. */
const IReactiveNotebooks = new Token<ReactiveNotebooks>(
  'reactive-notebook:IReactiveNotebooks',
  'Which open notebooks are reactive, and their server connections.'
);

const notebooksPlugin: JupyterFrontEndPlugin<ReactiveNotebooks> = {
  id: 'reactive-notebook:notebooks',
  description: 'Follows the reactive notebooks that are open.',
  autoStart: true,
  provides: IReactiveNotebooks,
  activate: (app: JupyterFrontEnd) =>
    new ReactiveNotebooks(new ReactiveAPI(app.serviceManager.serverSettings))
};

/**
 * The tracker plugin requires the executor, and the executor needs the tracker to find
 * a run's notebook: it is resolved lazily (on the first run, long after activation).
 */
const executorPlugin: JupyterFrontEndPlugin<INotebookCellExecutor> = {
  id: 'reactive-notebook:cell-executor',
  description:
    'Runs the cells of reactive notebooks on the server; others as stock.',
  autoStart: true,
  provides: INotebookCellExecutor,
  activate: (app: JupyterFrontEnd): INotebookCellExecutor => {
    const api = new ReactiveAPI(app.serviceManager.serverSettings);
    const fallback = stockExecutor(api);
    let reactive: ReactiveCellExecutor | null = null;
    const pending = app
      .resolveRequiredService(IReactiveNotebooks)
      .then(
        notebooks => (reactive = new ReactiveCellExecutor(notebooks, fallback))
      );
    return Object.freeze({
      // Once resolved, called without a detour through the event loop: the run must be
      // scheduled before the notebook moves its active cell on (run-on.ts).
      runCell: (options: INotebookCellExecutor.IRunCellOptions) =>
        reactive
          ? reactive.runCell(options)
          : pending.then(r => r.runCell(options))
    });
  }
};

const contentFactoryPlugin: JupyterFrontEndPlugin<NotebookPanel.IContentFactory> =
  {
    id: 'reactive-notebook:content-factory',
    description: "The notebook's cells, with the reactive footer.",
    autoStart: true,
    requires: [IEditorServices, IReactiveNotebooks],
    provides: NotebookPanel.IContentFactory,
    activate: (
      _: JupyterFrontEnd,
      editorServices: IEditorServices,
      notebooks: ReactiveNotebooks
    ) =>
      new ReactiveContentFactory(
        { editorFactory: editorServices.factoryService.newInlineEditor },
        notebooks
      )
  };

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Reactive notebooks: cells re-run when what they read changes.',
  autoStart: true,
  requires: [INotebookTracker, IReactiveNotebooks],
  optional: [
    ISettingRegistry,
    ILauncher,
    ICommandPalette,
    IDefaultFileBrowser,
    IEditorExtensionRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    notebooks: ReactiveNotebooks,
    settingRegistry: ISettingRegistry | null,
    launcher: ILauncher | null,
    palette: ICommandPalette | null,
    fileBrowser: IDefaultFileBrowser | null,
    editorExtensions: IEditorExtensionRegistry | null
  ) => {
    notebooks.track(tracker);
    let settings: IReactiveSettings = { ...DEFAULT_SETTINGS };
    if (settingRegistry) {
      const apply = (loaded: ISettingRegistry.ISettings) => {
        settings = {
          runOn: (loaded.get('runOn').composite as RunOn) ?? 'blur',
          debounce: (loaded.get('debounce').composite as number) ?? 500
        };
      };
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          apply(loaded);
          loaded.changed.connect(apply);
        })
        .catch(error =>
          Notification.warning(
            `Reactive Notebook settings could not be loaded: ${String(error)}`
          )
        );
    }

    editorExtensions?.addExtension({
      name: 'reactive-notebook:error-line',
      factory: () =>
        EditorExtensionRegistry.createImmutableExtension(errorLineField)
    });

    const runEdited = (panel: NotebookPanel, cell: Cell) => {
      // Read now: by the time the connection answers, the cell may be gone (deleted
      // in another tab, or by the assistant) and its model with it.
      const cellId = cell.model.id;
      const source = cell.model.sharedModel.getSource();
      notebooks
        .connect(panel)
        .then(connection => connection.runs.add(cellId, source))
        .catch(error =>
          Notification.error(
            `The cell could not run: ${error instanceof Error ? error.message : String(error)}`,
            { autoClose: 8000 }
          )
        );
    };
    tracker.widgetAdded.connect((_, panel) =>
      followRunOn(panel, () => settings, runEdited)
    );

    addCommands({
      app,
      api: notebooks.api,
      tracker,
      notebooks,
      currentFolder: () => fileBrowser?.model.path
    });
    if (launcher) {
      launcher.add({
        command: CommandIDs.createNew,
        category: 'Notebook',
        rank: 10
      });
    }
    if (palette) {
      const category = 'Reactive Notebook';
      for (const command of Object.values(CommandIDs)) {
        palette.addItem({ command, category, args: { isPalette: true } });
      }
    }

    // A new user's first visit makes their welcome notebook: open it (once restored,
    // so it is not lost under the restored layout) and show it in the file browser.
    void app.restored
      .then(() => welcomeToOpen(notebooks.api))
      .then(async path => {
        if (path !== null) {
          void fileBrowser?.model.refresh();
          await app.commands.execute('docmanager:open', { path });
        }
      })
      .catch(error =>
        Notification.warning(
          `Your welcome notebook could not be opened: ${String(error)}`,
          { autoClose: 5000 }
        )
      );
  }
};

/** The chat with the assistant, in the right sidebar, for the active reactive notebook. */
const chatPlugin: JupyterFrontEndPlugin<void> = {
  id: 'reactive-notebook:chat',
  description: 'The notebook chat with the assistant, in the right sidebar.',
  autoStart: true,
  requires: [INotebookTracker, IReactiveNotebooks, IRenderMimeRegistry],
  optional: [ICommandPalette, ILabShell, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    notebooks: ReactiveNotebooks,
    rendermime: IRenderMimeRegistry,
    palette: ICommandPalette | null,
    labShell: ILabShell | null,
    restorer: ILayoutRestorer | null
  ) => {
    activateChat(
      app,
      tracker,
      notebooks,
      rendermime,
      palette,
      labShell,
      restorer
    );
  }
};

/**
 * Vega-Lite 6 and Vega 6 outputs (Altair 6), which JupyterLab 4.6 does not render: added
 * to the registry the notebooks clone when they open (vega itself loads on the first
 * chart: vega6.ts).
 */
const vega6Plugin: JupyterFrontEndPlugin<void> = {
  id: vega6Extension.id,
  description: vega6Extension.description,
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [IThemeManager],
  activate: (
    _: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    themes: IThemeManager | null
  ) => {
    rendermime.addFactory(vega6Extension.rendererFactory, vega6Extension.rank);
    // Charts follow the theme (they read `data-jp-theme-light`, which the theme
    // plugin, activated before us, updates on the same signal).
    themes?.themeChanged.connect(() => void redrawCharts());
  }
};

export default [
  vega6Plugin,
  notebooksPlugin,
  executorPlugin,
  contentFactoryPlugin,
  plugin,
  chatPlugin
];
