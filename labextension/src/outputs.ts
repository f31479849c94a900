/**
 * Rendering one cell output: tables through table.ts, the rest through the app's
 * rendermime (JupyterLab's renderers, HTML sanitized as it does).
 */
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import { renderableMimeType } from './mime';
import { cellText, isTable, ITableOptions, renderTable } from './table';
import { IOutput } from './types';

/** A widget showing `output`. */
export function renderOutput(
  output: IOutput,
  rendermime: IRenderMimeRegistry,
  tableOptions: ITableOptions = {}
): Widget {
  if (output.mime_type === 'application/json' && isTable(output.data)) {
    return new Widget({ node: renderTable(output.data, tableOptions) });
  }
  const shownAs = renderableMimeType(output.mime_type, rendermime);
  const data = {
    [shownAs]: output.data
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
