/**
 * The notebook settings dialog: the notebook's name, its database connection string
 * and, while the server has no LLM provider, a notice that the chat is off.
 *
 * The connection string comes from the server with its password masked (`********`);
 * sending the mask back unchanged keeps the stored password, so the dialog only sends the
 * field when the user changed it, and the real password never reaches this page unless
 * the user types it. Changes go over REST (`PUT .../name`, `PUT .../db`): they answer
 * 400/409 with a message, shown in the dialog, which opens again with what was typed.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { ReactiveAPI } from './api';
import {
  checkUnchangedSince,
  errorField,
  hasLiteralPassword,
  INotebookSettings,
  PASSWORD_MASK,
  SettingsChange,
  settingsChanges
} from './settings-form';
import { ReactiveConnection } from './notebooks';
import { ICapability, INotebook } from './types';

export interface INotebookSettingsBodyOptions {
  values: INotebookSettings;
  /** The chat's capability, or null while unknown. */
  chat: ICapability | null;
  /** A message from the last attempt to save (shown above the fields). */
  error?: string;
  /** The field the error is about. */
  errorField?: 'name' | 'db' | null;
}

const DB_HELP =
  'Empty: the embedded DuckDB (an in-memory database per kernel). The password is ' +
  `never shown: it appears as ${PASSWORD_MASK}; leave that as it is to keep the ` +
  'stored password. Better, write no password at all and reference an environment ' +
  'variable of the kernel, e.g. postgresql://user:${PGPASSWORD}@host:5432/db.';

const LITERAL_PASSWORD_HINT =
  'This connection string holds a password. It is stored in the notebook file (the ' +
  'API only ever shows it masked); ${PGPASSWORD} keeps it out of the file.';

/** The dialog's body: the form. `getValue()` is what the user entered. */
export class NotebookSettingsBody
  extends Widget
  implements Dialog.IBodyWidget<INotebookSettings>
{
  constructor(options: INotebookSettingsBodyOptions) {
    super();
    this.addClass('jp-ReactiveNotebookSettings');
    const form = document.createElement('div');
    form.className = 'jp-ReactiveNotebookSettings-form';

    const error = document.createElement('div');
    error.className = 'jp-ReactiveNotebookSettings-error';
    error.setAttribute('role', 'alert');
    error.textContent = options.error ?? '';
    error.hidden = !options.error;
    form.append(error);

    this._name = this._field(form, {
      id: 'name',
      label: 'Name',
      value: options.values.name,
      help: 'The notebook file is renamed after it.',
      invalid: options.errorField === 'name'
    });
    this._db = this._field(form, {
      id: 'db',
      label: 'Database connection (SQL cells)',
      value: options.values.db,
      placeholder: 'Empty: the embedded DuckDB',
      help: DB_HELP,
      invalid: options.errorField === 'db'
    });
    const hint = document.createElement('div');
    hint.className = 'jp-ReactiveNotebookSettings-hint';
    form.append(hint);
    const showHint = () => {
      const literal = hasLiteralPassword(this._db.value);
      hint.textContent = literal ? LITERAL_PASSWORD_HINT : '';
      hint.hidden = !literal;
    };
    this._db.addEventListener('input', showHint);
    showHint();

    const chat = document.createElement('div');
    chat.className = 'jp-ReactiveNotebookSettings-chat';
    if (options.chat === null) {
      chat.hidden = true;
    } else if (options.chat.available) {
      chat.dataset.available = 'true';
      chat.textContent = 'Chat: an LLM provider is configured.';
    } else {
      chat.dataset.available = 'false';
      chat.textContent =
        options.chat.message ||
        'No LLM provider is configured: the notebook chat is off.';
    }
    form.append(chat);
    this.node.append(form);
  }

  getValue(): INotebookSettings {
    return { name: this._name.value, db: this._db.value };
  }

  private _field(
    form: HTMLElement,
    options: {
      id: string;
      label: string;
      value: string;
      help: string;
      placeholder?: string;
      invalid: boolean;
    }
  ): HTMLInputElement {
    const id = `jp-ReactiveNotebookSettings-${options.id}-${++fieldCount}`;
    const label = document.createElement('label');
    label.className = 'jp-ReactiveNotebookSettings-label';
    label.htmlFor = id;
    label.textContent = options.label;
    const input = document.createElement('input');
    input.className = 'jp-mod-styled jp-ReactiveNotebookSettings-input';
    input.id = id;
    input.name = options.id;
    input.type = 'text';
    input.spellcheck = false;
    input.autocomplete = 'off';
    // The property, never the `value` attribute: what the user types stays out of
    // the serialized DOM.
    input.value = options.value;
    if (options.placeholder) {
      input.placeholder = options.placeholder;
    }
    if (options.invalid) {
      input.setAttribute('aria-invalid', 'true');
    }
    const help = document.createElement('div');
    help.className = 'jp-ReactiveNotebookSettings-help';
    help.id = `${id}-help`;
    help.textContent = options.help;
    input.setAttribute('aria-describedby', help.id);
    form.append(label, input, help);
    return input;
  }

  private _name: HTMLInputElement;
  private _db: HTMLInputElement;
}

/** Makes the ids of the dialog's fields unique in the page. */
let fieldCount = 0;

function settingsOf(notebook: INotebook): INotebookSettings {
  return { name: notebook.name, db: notebook.db_conn_string };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Apply `changes` over REST, one by one; `current` follows what the server has (so after
 * a failure it holds the changes that were saved).
 */
async function applyChanges(
  api: ReactiveAPI,
  notebookId: string,
  current: INotebookSettings,
  changes: SettingsChange[],
  moved: (path: string) => void
): Promise<void> {
  for (const change of changes) {
    if (change.kind === 'name') {
      const renamed = await api.renameNotebook(notebookId, change.name);
      current.name = renamed.name;
      if (renamed.path !== undefined) {
        moved(renamed.path);
      }
    } else {
      current.db = (
        await api.setDbConnection(notebookId, change.connectionString)
      ).db_conn_string;
    }
  }
}

export interface IOpenSettingsOptions {
  /**
   * The server renamed the notebook's file (after its new name) to `path`, relative to
   * the contents root: the document should follow it.
   */
  moved?: (path: string) => void | Promise<void>;
}

/**
 * Show the settings of a reactive notebook; save what the user changed. A refused
 * change (400, 409, unreachable server) opens the dialog again with the server's
 * message and what the user typed.
 */
export async function openNotebookSettings(
  connection: ReactiveConnection,
  api: ReactiveAPI,
  options: IOpenSettingsOptions = {}
): Promise<void> {
  const model = {
    notebookId: connection.notebookId,
    name: connection.state.name,
    dbConnString: connection.state.dbConnString
  };
  if (!connection.state.loaded) {
    Notification.warning(
      'The notebook is still connecting to the server; try again in a moment.',
      { autoClose: 5000 }
    );
    return;
  }
  const chat = await api
    .capabilities()
    .then(capabilities => capabilities.chat)
    .catch((error): ICapability => ({
      available: false,
      message: `Could not ask the server whether an LLM provider is configured: ${messageOf(error)}`
    }));
  // What the server has now (the live model may not have caught up yet, e.g. right
  // after a rename reopened the document); the model's copy if the server cannot say.
  const current: INotebookSettings = await api
    .getNotebook(model.notebookId)
    .then(settingsOf)
    .catch(() => ({ name: model.name, db: model.dbConnString }));
  let entered = { ...current };
  let error = '';
  let field: 'name' | 'db' | null = null;
  for (;;) {
    const body = new NotebookSettingsBody({
      values: entered,
      chat,
      error,
      errorField: field
    });
    const result = await showDialog({
      title: 'Notebook Settings',
      body,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Save' })],
      focusNodeSelector: 'input'
    });
    if (!result.button.accept || result.value === null) {
      return;
    }
    entered = result.value;
    try {
      const changes = settingsChanges(current, entered);
      if (changes.length === 0) {
        return;
      }
      // Changed elsewhere since the dialog opened? Then show that instead of undoing it
      // (the next Save, with `current` up to date, replaces it).
      const now = settingsOf(await api.getNotebook(model.notebookId));
      try {
        checkUnchangedSince(current, now, changes);
      } finally {
        Object.assign(current, now);
      }
      let path: string | null = null;
      try {
        await applyChanges(api, model.notebookId, current, changes, moved => {
          path = moved;
        });
      } finally {
        if (path !== null) {
          await options.moved?.(path);
        }
      }
      Notification.success('Notebook settings saved.', { autoClose: 3000 });
      return;
    } catch (failure) {
      error = messageOf(failure);
      field = errorField(failure);
    }
  }
}
