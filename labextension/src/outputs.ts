/**
 * Rendering one cell output: tables through table.ts, the rest through the app's
 * rendermime (JupyterLab's renderers), trusted or not as the cell says (see
 * `outputRendering`): an untrusted output is rendered as JupyterLab renders the outputs
 * of an untrusted notebook.
 */
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import { outputRendering } from './mime';
import { cellText, isTable, ITableOptions, renderTable } from './table';
import { IOutput } from './types';

/**
 * A widget showing `output`. `trusted`: the cell's outputs were made by a run on the
 * server or come from a signed notebook (`ICell.trusted`).
 */
export function renderOutput(
  output: IOutput,
  rendermime: IRenderMimeRegistry,
  trusted: boolean,
  tableOptions: ITableOptions = {}
): Widget {
  if (output.mime_type === 'application/json' && isTable(output.data)) {
    return new Widget({ node: renderTable(output.data, tableOptions) });
  }
  const rendering = outputRendering(output.mime_type, rendermime, trusted);
  if (rendering.kind === 'refused') {
    const note = document.createElement('div');
    note.className = 'jp-ReactiveCell-untrusted';
    note.textContent =
      `${rendering.mimeType} output not shown: it is not trusted (stored in a ` +
      'notebook this server did not sign). Run the cell to see its own output.';
    return new Widget({ node: note });
  }
  if (rendering.kind === 'text') {
    const pre = document.createElement('pre');
    pre.className = 'jp-ReactiveCell-stream';
    pre.textContent = cellText(output.data);
    return new Widget({ node: pre });
  }
  const data = {
    [rendering.mimeType]: output.data
  } as MimeModel.IOptions['data'];
  const renderer = rendermime.createRenderer(rendering.mimeType);
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
