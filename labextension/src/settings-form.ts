/**
 * The logic of the notebook settings dialog, without DOM (`notebook-settings.ts` draws
 * it): which changes to send, whether a connection string holds a written-out password,
 * and which field an error is about.
 */
import { ReactiveAPIError } from './api';

/** The server's mask of a password (reactive_notebook/notebooks/connection.py). */
export const PASSWORD_MASK = '********';

export interface INotebookSettings {
  name: string;
  /** The connection string ("" for the embedded DuckDB), password masked. */
  db: string;
}

/** One change the dialog sends. */
export type SettingsChange =
  { kind: 'name'; name: string } | { kind: 'db'; connectionString: string };

/** A value the dialog refuses before asking the server. */
export class SettingsInputError extends Error {
  constructor(
    message: string,
    readonly field: 'name' | 'db'
  ) {
    super(message);
    this.name = 'SettingsInputError';
  }
}

/**
 * The changes from `current` (as the server has them) to what the user `entered`:
 * nothing for an unchanged field (so the masked connection string is never sent back).
 */
export function settingsChanges(
  current: INotebookSettings,
  entered: INotebookSettings
): SettingsChange[] {
  const changes: SettingsChange[] = [];
  const name = entered.name.trim();
  if (!name) {
    throw new SettingsInputError('The name must not be empty.', 'name');
  }
  if (name !== current.name) {
    changes.push({ kind: 'name', name });
  }
  const db = entered.db.trim();
  if (db !== current.db.trim()) {
    changes.push({ kind: 'db', connectionString: db });
  }
  return changes;
}

/** Someone else changed a setting while the dialog was open. */
export class SettingsConflictError extends Error {
  constructor(
    message: string,
    readonly field: 'name' | 'db'
  ) {
    super(message);
    this.name = 'SettingsConflictError';
  }
}

/**
 * Refuse `changes` to a field that the server (`now`) no longer has as the dialog showed
 * it (`shown`): another tab or client changed it meanwhile, and saving would silently
 * undo that. The dialog then shows the new value; saving again replaces it.
 */
export function checkUnchangedSince(
  shown: INotebookSettings,
  now: INotebookSettings,
  changes: SettingsChange[]
): void {
  for (const change of changes) {
    const field = change.kind;
    if (now[field] !== shown[field]) {
      const what = field === 'name' ? 'name' : 'database connection';
      const value = now[field] || '(empty: the embedded DuckDB)';
      throw new SettingsConflictError(
        `The ${what} was changed elsewhere while this dialog was open; it is now ` +
          `${value}. Save again to replace it with yours.`,
        field
      );
    }
  }
}

/**
 * Whether a connection string carries a password written out (rather than masked, or an
 * environment reference such as `${PGPASSWORD}`): the dialog then suggests a reference.
 */
export function hasLiteralPassword(connection: string): boolean {
  const isSecret = (value: string) =>
    value !== '' &&
    value !== PASSWORD_MASK &&
    !/^'?\$\{[A-Za-z_][A-Za-z0-9_]*\}'?$/.test(value);
  const url = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(connection);
  if (url) {
    const authority = url[1];
    const at = authority.lastIndexOf('@');
    const colon = authority.indexOf(':');
    if (at >= 0 && colon >= 0 && colon < at) {
      if (isSecret(authority.slice(colon + 1, at))) {
        return true;
      }
    }
  }
  const keyword =
    /(?:^|[\s?&])(?:password|passwd|pwd)\s*=\s*('[^']*'|[^\s&#]*)/gi;
  for (const match of connection.matchAll(keyword)) {
    if (isSecret(match[1])) {
      return true;
    }
  }
  return false;
}

/** The field an error is about, if any. */
export function errorField(error: unknown): 'name' | 'db' | null {
  if (
    error instanceof SettingsInputError ||
    error instanceof SettingsConflictError
  ) {
    return error.field;
  }
  if (error instanceof ReactiveAPIError) {
    if (error.field === 'name') {
      return 'name';
    }
    if (error.field === 'connection_string') {
      return 'db';
    }
  }
  return null;
}
