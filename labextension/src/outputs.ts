/**
 * Rendering one cell output: tables as HTML tables with their truncation note, the rest
 * through the app's rendermime (JupyterLab's renderers, HTML sanitized as it does).
 */
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import { IOutput, ITableData } from './types';

export function isTable(data: unknown): data is ITableData {
  return (
    data !== null &&
    typeof data === 'object' &&
    (data as { type?: unknown }).type === 'table' &&
    Array.isArray((data as { columns?: unknown }).columns) &&
    Array.isArray((data as { rows?: unknown }).rows)
  );
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A table output as a DOM table (text only: nothing in it is parsed as HTML). */
export function renderTable(data: ITableData): HTMLElement {
  const node = document.createElement('div');
  node.className = 'jp-ReactiveTable';
  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const column of data.columns) {
    const th = document.createElement('th');
    th.textContent = String(column);
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const row of data.rows) {
    const tr = body.insertRow();
    for (const value of row) {
      tr.insertCell().textContent = cellText(value);
    }
  }
  node.appendChild(table);
  const note = document.createElement('div');
  note.className = 'jp-ReactiveTable-note';
  note.textContent = data.truncated
    ? data.truncated
    : `${data.rows.length} row${data.rows.length === 1 ? '' : 's'}`;
  node.appendChild(note);
  return node;
}

/** A widget showing `output`. */
export function renderOutput(
  output: IOutput,
  rendermime: IRenderMimeRegistry
): Widget {
  if (output.mime_type === 'application/json' && isTable(output.data)) {
    return new Widget({ node: renderTable(output.data) });
  }
  const data = {
    [output.mime_type]: output.data
  } as MimeModel.IOptions['data'];
  const mime = rendermime.preferredMimeType(data ?? {}, 'any');
  if (!mime) {
    const pre = document.createElement('pre');
    pre.className = 'jp-ReactiveCell-stream';
    pre.textContent = cellText(output.data);
    return new Widget({ node: pre });
  }
  const renderer = rendermime.createRenderer(mime);
  // HTML is sanitized (untrusted), as JupyterLab does for outputs it did not run itself.
  const trusted = mime !== 'text/html';
  void renderer.renderModel(
    new MimeModel({
      data,
      metadata: output.metadata as MimeModel.IOptions['metadata'],
      trusted
    })
  );
  return renderer;
}

/** Terminal colour codes out of a traceback line. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}
