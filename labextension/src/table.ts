/**
 * Tables (DataFrames, SQL results) as the kernel sends them (`{"type": "table", ...}`),
 * shown as a plain DOM table: text only, nothing in it is parsed as HTML.
 */
import { ITableData } from './types';

export function isTable(data: unknown): data is ITableData {
  return (
    data !== null &&
    typeof data === 'object' &&
    (data as { type?: unknown }).type === 'table' &&
    Array.isArray((data as { columns?: unknown }).columns) &&
    Array.isArray((data as { rows?: unknown }).rows)
  );
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export interface ITableOptions {
  /**
   * Leave out pandas' default index (one unnamed level counting 0, 1, 2...): a SQL
   * result's index is only the row number the database never had.
   */
  hideDefaultIndex?: boolean;
}

/** What of the table is shown: which columns, how many of them head the rows, the note. */
export interface ITableShape {
  /** Indices into `data.columns` (and each row) to show, in order. */
  columns: number[];
  /** How many of the shown columns are row headers (the frame's index). */
  headerColumns: number;
  /** "3 rows × 2 columns", or the truncation note ("showing 1000 of 5000 rows"). */
  note: string;
}

function isDefaultIndex(data: ITableData): boolean {
  return (
    data.index_columns === 1 &&
    data.columns[0] === 'index' &&
    data.rows.every((row, i) => row[0] === i)
  );
}

function plural(count: number, word: string): string {
  return `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`;
}

export function tableShape(
  data: ITableData,
  options: ITableOptions = {}
): ITableShape {
  let index = Math.max(
    0,
    Math.min(data.index_columns ?? 0, data.columns.length)
  );
  let first = 0;
  if (options.hideDefaultIndex && isDefaultIndex(data)) {
    first = 1;
    index = 0;
  }
  const columns = data.columns.map((_, i) => i).slice(first);
  const dataColumns = data.columns.length - (data.index_columns ?? 0);
  const rows = data.total_rows ?? data.rows.length;
  const note =
    data.truncated ??
    `${plural(rows, 'row')} × ${plural(Math.max(0, dataColumns), 'column')}`;
  return { columns, headerColumns: index, note };
}

/** A table output as a DOM table. */
export function renderTable(
  data: ITableData,
  options: ITableOptions = {}
): HTMLElement {
  const shape = tableShape(data, options);
  const node = document.createElement('div');
  node.className = 'jp-ReactiveTable';
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  shape.columns.forEach((column, i) => {
    const th = document.createElement('th');
    th.textContent = String(data.columns[column]);
    if (i < shape.headerColumns) {
      th.className = 'jp-ReactiveTable-index';
    }
    head.appendChild(th);
  });
  const body = table.createTBody();
  for (const row of data.rows) {
    const tr = body.insertRow();
    shape.columns.forEach((column, i) => {
      if (i < shape.headerColumns) {
        const th = document.createElement('th');
        th.scope = 'row';
        th.className = 'jp-ReactiveTable-index';
        th.textContent = cellText(row[column]);
        tr.appendChild(th);
      } else {
        tr.insertCell().textContent = cellText(row[column]);
      }
    });
  }
  node.appendChild(table);
  const note = document.createElement('div');
  note.className = 'jp-ReactiveTable-note';
  note.textContent = shape.note;
  node.appendChild(note);
  return node;
}
