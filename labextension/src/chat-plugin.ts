/**
 * The chat panel's place in JupyterLab: the right sidebar, a command to show and hide it
 * (`reactive-notebook:toggle-chat`, in the palette, Accel Shift Y by default: see
 * schema/plugin.json), and the layout restorer so it comes back where it was.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { ReactiveNotebooks } from './notebooks';
import { ChatPanel, chatIcon } from './chat-panel';

export const TOGGLE_CHAT = 'reactive-notebook:toggle-chat';

/** The panel's rank in the right sidebar (after the property inspector and debugger). */
const RANK = 1100;

export function activateChat(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  notebooks: ReactiveNotebooks,
  rendermime: IRenderMimeRegistry,
  palette: ICommandPalette | null,
  labShell: ILabShell | null,
  restorer: ILayoutRestorer | null
): ChatPanel {
  const panel = new ChatPanel({
    api: notebooks.api,
    tracker,
    notebooks,
    rendermime,
    activate: notebook => app.shell.activateById(notebook.id)
  });
  app.shell.add(panel, 'right', { rank: RANK });
  restorer?.add(panel, 'reactive-notebook-chat');

  app.commands.addCommand(TOGGLE_CHAT, {
    label: 'Reactive Chat',
    caption:
      'Show the chat with the assistant about the current reactive notebook (again: hide it)',
    icon: args => (args.isPalette ? undefined : chatIcon),
    isToggled: () => panel.isVisible,
    execute: () => {
      // Like Accel B for the left area: shown and in use, the key hides it; otherwise it
      // shows it with the cursor in the input.
      if (panel.isVisible && panel.node.contains(document.activeElement)) {
        labShell?.collapseRight();
        tracker.currentWidget?.content.activate();
        return;
      }
      app.shell.activateById(panel.id);
      panel.focusInput();
    }
  });
  palette?.addItem({
    command: TOGGLE_CHAT,
    category: 'Reactive Notebook',
    args: { isPalette: true }
  });
  return panel;
}
