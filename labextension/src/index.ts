/**
 * reactive-notebook: the JupyterLab side of reactive notebooks. Registers the
 * "Reactive Notebook" editor for `.ipynb` files (Open With), "New Reactive Notebook"
 * in the launcher and File > New, and the `reactive-notebook:*` commands.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import {
  ABCWidgetFactory,
  DocumentRegistry,
  IDocumentWidget
} from '@jupyterlab/docregistry';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import {
  addIcon,
  notebookIcon,
  runIcon,
  settingsIcon,
  stopIcon,
  Toolbar,
  ToolbarButton
} from '@jupyterlab/ui-components';

import { ReactiveAPI } from './api';
import { createNotebookIn, findCreated } from './new-notebook';
import { openNotebookSettings } from './notebook-settings';
import { ReactiveNotebookPanel } from './panel';
import { DEFAULT_SETTINGS, IReactiveSettings, RunOn } from './settings';
import { KernelStatus } from './toolbar';
import { ReactiveNotebookDocument } from './widget';

const PLUGIN_ID = 'reactive-notebook:plugin';
const FACTORY = 'Reactive Notebook';

export const CommandIDs = {
  createNew: 'reactive-notebook:create-new',
  runCell: 'reactive-notebook:run-cell',
  runCellInPlace: 'reactive-notebook:run-cell-in-place',
  runAll: 'reactive-notebook:run-all',
  interrupt: 'reactive-notebook:interrupt',
  insertBelow: 'reactive-notebook:insert-cell-below',
  insertAbove: 'reactive-notebook:insert-cell-above',
  deleteCell: 'reactive-notebook:delete-cell',
  moveUp: 'reactive-notebook:move-cell-up',
  moveDown: 'reactive-notebook:move-cell-down',
  toPython: 'reactive-notebook:change-cell-to-python',
  toSql: 'reactive-notebook:change-cell-to-sql',
  notebookSettings: 'reactive-notebook:notebook-settings'
} as const;

class ReactiveNotebookFactory extends ABCWidgetFactory<
  IDocumentWidget<ReactiveNotebookPanel>,
  DocumentRegistry.IModel
> {
  constructor(
    options: DocumentRegistry.IWidgetFactoryOptions<
      IDocumentWidget<ReactiveNotebookPanel>
    >,
    private readonly _make: (
      context: DocumentRegistry.Context
    ) => ReactiveNotebookPanel,
    private readonly _openSettings: (panel: ReactiveNotebookPanel) => void
  ) {
    super(options);
  }

  protected createNewWidget(
    context: DocumentRegistry.Context
  ): IDocumentWidget<ReactiveNotebookPanel> {
    // The server saves the notebook; a save from here would write back the file as
    // it was when opened, over the server's changes.
    const noSave = async () => undefined;
    Object.assign(context, { save: noSave, saveAs: noSave });
    const content = this._make(context);
    const widget = new ReactiveNotebookDocument({ content, context });
    widget.addClass('jp-ReactiveNotebookDocument');
    widget.title.icon = notebookIcon;
    widget.toolbar.addItem(
      'run-all',
      new ToolbarButton({
        icon: runIcon,
        tooltip: 'Run all cells',
        onClick: () => void content.runAll()
      })
    );
    widget.toolbar.addItem(
      'interrupt',
      new ToolbarButton({
        icon: stopIcon,
        tooltip: 'Interrupt the kernel',
        onClick: () => void content.interrupt()
      })
    );
    widget.toolbar.addItem(
      'insert',
      new ToolbarButton({
        icon: addIcon,
        tooltip: 'Add a cell below',
        onClick: () => void content.insertBelow()
      })
    );
    widget.toolbar.addItem(
      'notebook-settings',
      new ToolbarButton({
        icon: settingsIcon,
        tooltip: 'Notebook settings: name, database connection',
        onClick: () => this._openSettings(content)
      })
    );
    widget.toolbar.addItem('spacer', Toolbar.createSpacerItem());
    widget.toolbar.addItem('kernel-status', new KernelStatus(content));
    return widget;
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Reactive notebooks: cells re-run when what they read changes.',
  autoStart: true,
  requires: [IRenderMimeRegistry, IEditorServices],
  optional: [
    ISettingRegistry,
    ILauncher,
    ICommandPalette,
    ILayoutRestorer,
    IDefaultFileBrowser
  ],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    editorServices: IEditorServices,
    settingRegistry: ISettingRegistry | null,
    launcher: ILauncher | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    fileBrowser: IDefaultFileBrowser | null
  ) => {
    const serverSettings = app.serviceManager.serverSettings;
    const api = new ReactiveAPI(serverSettings);
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

    const factory = new ReactiveNotebookFactory(
      {
        name: FACTORY,
        label: 'Reactive Notebook',
        modelName: 'text',
        fileTypes: ['notebook'],
        defaultFor: []
      },
      context =>
        new ReactiveNotebookPanel({
          context,
          rendermime,
          editorServices,
          serverSettings,
          settings: () => settings
        }),
      panel => void showSettings(panel)
    );
    app.docRegistry.addWidgetFactory(factory);

    const tracker = new WidgetTracker<IDocumentWidget<ReactiveNotebookPanel>>({
      namespace: 'reactive-notebook'
    });
    factory.widgetCreated.connect((_, widget) => {
      widget.context.pathChanged.connect(() => void tracker.save(widget));
      widget.content.fileMoved.connect(
        (panel, path) => void followMove(panel, path)
      );
      void tracker.add(widget);
    });
    if (restorer) {
      void restorer.restore(tracker, {
        command: 'docmanager:open',
        args: widget => ({ path: widget.context.path, factory: FACTORY }),
        name: widget => widget.context.path
      });
    }

    /**
     * The server renamed `panel`'s file to `path` (after the notebook's new name, from
     * this tab's settings or any other client): the document is opened again under its
     * new path, so the tab, the file browser and a restored workspace all follow.
     */
    const moving = new WeakMap<ReactiveNotebookPanel, Promise<void>>();
    const followMove = (
      panel: ReactiveNotebookPanel,
      path: string
    ): Promise<void> => {
      // The renaming tab learns of the move twice (its REST answer, the socket's
      // event): one reopening at a time per panel, or the file would open twice.
      const previous = moving.get(panel) ?? Promise.resolve();
      const next = previous.then(async () => {
        const widget = tracker.find(w => w.content === panel);
        if (!widget || widget.isDisposed || widget.context.localPath === path) {
          return;
        }
        await app.commands.execute('docmanager:open', {
          path,
          factory: FACTORY
        });
        widget.close();
      });
      moving.set(
        panel,
        next.catch(() => undefined)
      );
      return next;
    };
    const showSettings = (panel: ReactiveNotebookPanel): Promise<void> =>
      openNotebookSettings(panel, api, {
        moved: path => followMove(panel, path)
      });

    const current = (): ReactiveNotebookPanel | null =>
      tracker.currentWidget?.content ?? null;
    const isEnabled = () => current() !== null;
    const { commands } = app;

    commands.addCommand(CommandIDs.createNew, {
      label: args =>
        args.isLauncher || args.isPalette
          ? 'New Reactive Notebook'
          : 'Reactive Notebook',
      caption: 'Create a reactive notebook',
      icon: args => (args.isPalette ? undefined : notebookIcon),
      execute: async args => {
        // Where the user is: the launcher's folder, else the file browser's.
        const folder =
          typeof args.cwd === 'string' ? args.cwd : fileBrowser?.model.path;
        try {
          const { created, refusedFolder } = await createNotebookIn(
            api,
            folder
          );
          if (refusedFolder !== undefined) {
            Notification.info(
              `The notebook is in your notebooks folder: ${refusedFolder}`,
              { autoClose: 8000 }
            );
          }
          // A new notebook opens with one empty Python cell to type into.
          await api.createCell(created.notebook_id, { type: 'python' });
          const path =
            created.path ??
            (await findCreated(
              app.serviceManager.contents,
              created.notebook_id
            ));
          if (path === null) {
            Notification.warning(
              'The notebook was created but its file was not found; ' +
                'open it from the file browser with Open With > Reactive Notebook.'
            );
            return;
          }
          await commands.execute('docmanager:open', { path, factory: FACTORY });
        } catch (error) {
          Notification.error(
            `Could not create a reactive notebook: ${
              error instanceof Error ? error.message : String(error)
            }`
          );
        }
      }
    });
    commands.addCommand(CommandIDs.runCell, {
      label: 'Run Cell and Select Next',
      caption: 'Save the cell, run it and the cells that depend on it',
      icon: args => (args.toolbar ? runIcon : undefined),
      isEnabled,
      execute: () => current()?.runActive(true)
    });
    commands.addCommand(CommandIDs.runCellInPlace, {
      label: 'Run Cell',
      isEnabled,
      execute: () => current()?.runActive(false)
    });
    commands.addCommand(CommandIDs.runAll, {
      label: 'Run All Cells',
      isEnabled,
      execute: () => current()?.runAll()
    });
    commands.addCommand(CommandIDs.interrupt, {
      label: 'Interrupt',
      isEnabled,
      execute: () => current()?.interrupt()
    });
    commands.addCommand(CommandIDs.insertBelow, {
      label: 'Add Cell Below',
      isEnabled,
      execute: () => current()?.insertBelow()
    });
    commands.addCommand(CommandIDs.notebookSettings, {
      label: 'Notebook Settings…',
      caption: "The notebook's name and database connection",
      icon: args => (args.isPalette ? undefined : settingsIcon),
      isEnabled,
      execute: () => {
        const panel = current();
        return panel ? showSettings(panel) : undefined;
      }
    });
    commands.addCommand(CommandIDs.insertAbove, {
      label: 'Add Cell Above',
      isEnabled,
      execute: () => current()?.insertAbove()
    });
    commands.addCommand(CommandIDs.deleteCell, {
      label: 'Delete Cell',
      isEnabled,
      execute: () => current()?.deleteActive()
    });
    commands.addCommand(CommandIDs.moveUp, {
      label: 'Move Cell Up',
      isEnabled,
      execute: () => current()?.moveActive(-1)
    });
    commands.addCommand(CommandIDs.moveDown, {
      label: 'Move Cell Down',
      isEnabled,
      execute: () => current()?.moveActive(1)
    });
    commands.addCommand(CommandIDs.toPython, {
      label: 'Change Cell to Python',
      isEnabled,
      execute: () => current()?.setActiveType('python')
    });
    commands.addCommand(CommandIDs.toSql, {
      label: 'Change Cell to SQL',
      isEnabled,
      execute: () => current()?.setActiveType('sql')
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
  }
};

export default plugin;
