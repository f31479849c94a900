/**
 * SQL cells: code cells whose metadata says `reactive_notebook.type = "sql"` (the file
 * format's), with the name of the variable their result goes into in
 * `reactive_notebook.output`. The server fills in a name when a cell has none.
 */
import { ICellModel } from '@jupyterlab/cells';

import { REACTIVE_KEY } from './notebooks';

/** The editor's language for SQL cells (CodeMirror's SQL mode). */
export const SQL_MIME = 'text/x-sql';

/** A Python identifier, as a SQL cell's result variable must be. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface ICellMetadata {
  type?: unknown;
  output?: unknown;
}

function ours(model: ICellModel): ICellMetadata | null {
  const value = model.getMetadata(REACTIVE_KEY) as unknown;
  return value !== null && typeof value === 'object'
    ? (value as ICellMetadata)
    : null;
}

/** Whether the cell is a SQL cell. */
export function isSqlCell(model: ICellModel): boolean {
  return model.type === 'code' && ours(model)?.type === 'sql';
}

/** The SQL cell's result variable as its metadata holds it (null: not chosen yet). */
export function resultVariable(model: ICellModel): string | null {
  const output = ours(model)?.output;
  return typeof output === 'string' && output ? output : null;
}

/** Why `name` cannot be a result variable, or null when it can. */
export function invalidResultVariable(name: string): string | null {
  if (!name) {
    return 'The result variable needs a name.';
  }
  if (!IDENTIFIER.test(name)) {
    return `"${name}" is not a Python name: use letters, digits and _, not starting with a digit.`;
  }
  return null;
}

/** Make the code cell a SQL cell (keeping a result variable it had) or a Python one. */
export function setCellLanguage(
  model: ICellModel,
  language: 'sql' | 'python'
): void {
  if (language === 'python') {
    model.deleteMetadata(REACTIVE_KEY);
    return;
  }
  const output = resultVariable(model);
  model.setMetadata(
    REACTIVE_KEY,
    output ? { type: 'sql', output } : { type: 'sql' }
  );
}

/** Give the SQL cell the result variable `name` (checked with invalidResultVariable). */
export function setResultVariable(model: ICellModel, name: string): void {
  model.setMetadata(REACTIVE_KEY, { type: 'sql', output: name });
}
