/**
 * The reactive decorations of a stock cell, drawn by its footer (the notebook's content
 * factory gives every cell one): the run status, the names the cell writes and reads
 * (a read is a link to the cell that defines it, struck through when none does), a
 * stale badge with dimmed outputs, why it failed or is blocked (the cells it names link
 * to them by their prompt number), and for a SQL cell its result variable and connection.
 *
 * The footer also marks the cell: the line of a syntax error in its editor, the SQL
 * language, and classes on the cell node (`jp-mod-reactiveStale`, `data-reactive-status`)
 * for the styles. A cell of a plain notebook shows none of it.
 */
import type { CellChange } from '@jupyter/ydoc';
import { Cell, ICellFooter, ICodeCellModel } from '@jupyterlab/cells';
import { CodeMirrorEditor } from '@jupyterlab/codemirror';
import { NotebookPanel } from '@jupyterlab/notebook';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { labelOfCell, revealCell } from './cell-links';
import { dynamicNote } from './dynamic';
import { markErrorLine } from './editor-marks';
import {
  MARK_TEXT,
  reasonParts,
  splitCode,
  statusMark,
  syntaxErrorAt
} from './reasons';
import {
  panelOfCell,
  ReactiveConnection,
  ReactiveNotebooks
} from './notebooks';
import {
  invalidResultVariable,
  isSqlCell,
  resultVariable,
  setResultVariable,
  SQL_MIME
} from './sql';
import { IReactiveCell, StateChange } from './state';
import { trustsServerRun } from './trust';

const STALE_TITLE =
  'Something this cell reads changed since it ran: its outputs are out of date.';

export class ReactiveCellFooter extends Widget implements ICellFooter {
  constructor(private readonly _notebooks: ReactiveNotebooks) {
    super();
    this.addClass('jp-CellFooter');
    this.addClass('jp-ReactiveFooter');
    this._notebooks.connectionChanged.connect(this._onConnectionChanged, this);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    // The cell goes with its footer: nothing to draw, only stop listening.
    this._connection?.state.changed.disconnect(this._onState, this);
    this._connection = null;
    this._notebooks.connectionChanged.disconnect(
      this._onConnectionChanged,
      this
    );
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    const cell = this._cell();
    if (cell && !this._cellHooked) {
      this._cellHooked = true;
      cell.model.metadataChanged.connect(() => this.render(), this);
      cell.model.sharedModel.changed.connect(
        (_, change) => this._onSharedChange(cell, change as CellChange),
        this
      );
      if (cell.model.type === 'code') {
        cell.model.mimeTypeChanged.connect(() => this._applyLanguage(), this);
      }
      void cell.ready.then(() => this.render());
    }
    this._bind(this._panel());
  }

  /** The cell this footer belongs to (null once it is being disposed). */
  private _cell(): Cell | null {
    const cell = this.parent;
    return cell instanceof Cell && !cell.isDisposed && !this.isDisposed
      ? cell
      : null;
  }

  private _panel(): NotebookPanel | null {
    return panelOfCell(this._cell());
  }

  private _onConnectionChanged(
    _: ReactiveNotebooks,
    panel: NotebookPanel
  ): void {
    if (panel === this._panel()) {
      this._bind(panel);
    }
  }

  /** Follow the reactive connection of `panel` (none: the notebook is plain). */
  private _bind(panel: NotebookPanel | null): void {
    const connection = panel ? this._notebooks.connection(panel) : null;
    if (connection !== this._connection) {
      this._connection?.state.changed.disconnect(this._onState, this);
      this._connection = connection;
      connection?.state.changed.connect(this._onState, this);
    }
    this.render();
  }

  private _onState(_: unknown, change: StateChange): void {
    const cell = this._cell();
    if (
      change.kind === 'cell' &&
      cell &&
      change.cellId !== cell.model.id &&
      !this._links.has(change.cellId)
    ) {
      return; // another cell, not one this footer names
    }
    if (change.kind === 'error' || change.kind === 'deleted') {
      return;
    }
    this.render();
  }

  /** Draw the footer and the cell's marks from the current state. */
  render(): void {
    const cell = this._cell();
    const connection = this._connection;
    const state =
      cell && connection && cell.model.type === 'code'
        ? (connection.state.cell(cell.model.id) ?? null)
        : null;
    this._applyLanguage();
    if (!cell || !connection || !state) {
      this._clear(cell);
      return;
    }
    const mark = statusMark(state);
    const stale = state.stale && mark !== 'queued' && mark !== 'running';
    cell.node.dataset.reactiveStatus = mark;
    cell.toggleClass('jp-mod-reactiveStale', stale);
    this.node.dataset.status = mark;
    this._markEditor(cell, syntaxErrorAt(state)?.line ?? null);

    const key = JSON.stringify([
      mark,
      stale,
      state.error,
      state.reads,
      // Who defines each read: a cell added, changed or moved elsewhere changes it.
      state.reads.map(
        name => connection.state.definerOf(cell.model.id, name)?.id ?? null
      ),
      state.writes,
      state.dynamic,
      isSqlCell(cell.model)
        ? [resultVariable(cell.model), connection.state.dbConnString]
        : null,
      this._labelsKey(state, connection)
    ]);
    if (key === this._key) {
      return;
    }
    this._key = key;
    this.node.hidden = false;
    this.node.replaceChildren(
      ...this._statusLine(cell, state, mark, stale, connection),
      ...this._reasonLine(state, mark, connection)
    );
  }

  private _clear(cell: Cell | null): void {
    this._key = '';
    this._links.clear();
    this.node.hidden = true;
    this.node.replaceChildren();
    delete this.node.dataset.status;
    if (cell) {
      delete cell.node.dataset.reactiveStatus;
      cell.toggleClass('jp-mod-reactiveStale', false);
      this._markEditor(cell, null);
    }
  }

  private _statusLine(
    cell: Cell,
    state: IReactiveCell,
    mark: ReturnType<typeof statusMark>,
    stale: boolean,
    connection: ReactiveConnection
  ): HTMLElement[] {
    const line = element('div', 'jp-ReactiveFooter-line');
    if (mark !== 'idle') {
      const status = element(
        'span',
        'jp-ReactiveFooter-status',
        MARK_TEXT[mark]
      );
      status.dataset.mark = mark;
      status.title = `Reactive run: ${MARK_TEXT[mark]}`;
      line.append(status);
    }
    if (stale) {
      const badge = element('span', 'jp-ReactiveFooter-stale', 'stale');
      badge.title = STALE_TITLE;
      line.append(badge);
    }
    if (isSqlCell(cell.model)) {
      line.append(this._sqlPart(cell, connection));
    }
    const names = this._namesPart(cell, state, connection);
    if (names) {
      line.append(names);
    }
    return line.childNodes.length ? [line] : [];
  }

  /** "writes a, b · reads x, y": each read links to the cell that defines it. */
  private _namesPart(
    cell: Cell,
    state: IReactiveCell,
    connection: ReactiveConnection
  ): HTMLElement | null {
    const part = element('span', 'jp-ReactiveFooter-names');
    if (state.writes.length) {
      part.append('writes ');
      state.writes.forEach((name, i) => {
        part.append(
          ...(i ? [', '] : []),
          element('code', 'jp-ReactiveFooter-write', name)
        );
      });
    }
    if (state.reads.length) {
      part.append(state.writes.length ? ' · reads ' : 'reads ');
      state.reads.forEach((name, i) => {
        const definer = connection.state.definerOf(cell.model.id, name);
        const link = element('button', 'jp-ReactiveFooter-read', name);
        link.dataset.name = name;
        link.dataset.defined = String(definer !== null);
        link.title = definer
          ? `Go to the cell that defines ${name}`
          : `No cell defines ${name}`;
        if (definer) {
          link.addEventListener('click', event => {
            event.stopPropagation();
            this._reveal(definer.id);
          });
        } else {
          link.disabled = true;
        }
        part.append(...(i ? [', '] : []), link);
      });
    }
    const note = dynamicNote(state);
    if (note) {
      const span = element('span', 'jp-ReactiveFooter-dynamic', note.text);
      span.title = note.title;
      part.append(part.childNodes.length ? ' · ' : '', span);
    }
    return part.childNodes.length ? part : null;
  }

  /** "→ result_1 · duckdb (in memory)": the result variable can be renamed in place. */
  private _sqlPart(cell: Cell, connection: ReactiveConnection): HTMLElement {
    const part = element('span', 'jp-ReactiveFooter-sql');
    const input = document.createElement('input');
    input.className = 'jp-ReactiveFooter-output';
    input.value = resultVariable(cell.model) ?? '';
    input.placeholder = 'result';
    input.spellcheck = false;
    input.setAttribute('aria-label', 'Result variable of this SQL cell');
    input.title = 'The variable the query result goes into (Enter to rename)';
    const commit = () => {
      const name = input.value.trim();
      if (name === (resultVariable(cell.model) ?? '')) {
        return;
      }
      const problem = invalidResultVariable(name);
      if (problem) {
        input.setCustomValidity(problem);
        input.reportValidity();
        return;
      }
      input.setCustomValidity('');
      setResultVariable(cell.model, name);
    };
    input.addEventListener('keydown', event => {
      event.stopPropagation(); // typing here is not a notebook shortcut
      if (event.key === 'Enter') {
        event.preventDefault();
        commit();
      } else if (event.key === 'Escape') {
        input.value = resultVariable(cell.model) ?? '';
        input.setCustomValidity('');
        input.blur();
      }
    });
    input.addEventListener('change', commit);
    const db = connection.state.dbConnString;
    const where = element(
      'span',
      'jp-ReactiveFooter-connection',
      db ? db : 'DuckDB (in memory)'
    );
    where.title = db
      ? 'The database this notebook queries (Notebook Settings to change it)'
      : 'No connection is set: SQL runs on an in-memory DuckDB (Notebook Settings to change it)';
    part.append('SQL → ', input, ' · ', where);
    return part;
  }

  /** Why the cell failed or is blocked, cells named by the number the user sees. */
  private _reasonLine(
    state: IReactiveCell,
    mark: ReturnType<typeof statusMark>,
    connection: ReactiveConnection
  ): HTMLElement[] {
    this._links.clear();
    if ((mark !== 'failed' && mark !== 'blocked') || !state.error) {
      return [];
    }
    const line = element('div', 'jp-ReactiveFooter-reason');
    line.append(`${mark}: `);
    const ids = connection.state.cells.map(c => c.id);
    for (const part of reasonParts(state.error, ids)) {
      if ('text' in part) {
        for (const piece of splitCode(part.text)) {
          line.append(
            piece.code ? element('code', '', piece.text) : piece.text
          );
        }
        continue;
      }
      this._links.add(part.cellId);
      const label = this._label(part.cellId);
      const link = element('button', 'jp-ReactiveFooter-cellLink', label);
      link.dataset.cellId = part.cellId;
      link.title = `Go to cell ${label}`;
      link.addEventListener('click', event => {
        event.stopPropagation();
        this._reveal(part.cellId);
      });
      line.append(link);
    }
    return [line];
  }

  /** What the labels of the cells the reason names depend on (positions, counts). */
  private _labelsKey(
    state: IReactiveCell,
    connection: ReactiveConnection
  ): string {
    if (!state.error) {
      return '';
    }
    const ids = connection.state.cells
      .map(c => c.id)
      .filter(id => state.error!.includes(id));
    return ids.map(id => this._label(id)).join(',');
  }

  private _label(cellId: string): string {
    return labelOfCell(this._panel()?.content ?? null, cellId);
  }

  /** Select the cell `cellId` and scroll it into view. */
  private _reveal(cellId: string): void {
    const notebook = this._panel()?.content;
    if (notebook) {
      revealCell(notebook, cellId);
    }
  }

  private _markEditor(cell: Cell, line: number | null): void {
    const editor = cell.editor;
    if (editor instanceof CodeMirrorEditor) {
      markErrorLine(editor.editor, line);
    }
  }

  /** Trust the outputs of a run on the server, as stock trusts its own (see trust.ts). */
  private _onSharedChange(cell: Cell, change: CellChange): void {
    if (cell.isDisposed || cell.model.trusted || cell.model.type !== 'code') {
      return;
    }
    const held = (cell.model as ICodeCellModel).outputs.length;
    if (
      trustsServerRun(change, cell.model.getMetadata('trusted') === true, held)
    ) {
      cell.model.trusted = true;
    }
  }

  /** SQL cells edit as SQL; a cell changed back to Python edits as the kernel's language. */
  private _applyLanguage(): void {
    const cell = this._cell();
    if (!cell || cell.model.type !== 'code') {
      return;
    }
    const sql = isSqlCell(cell.model);
    const notebook = this._panel()?.content;
    if (sql && cell.model.mimeType !== SQL_MIME) {
      cell.model.mimeType = SQL_MIME;
    } else if (!sql && cell.model.mimeType === SQL_MIME && notebook) {
      cell.model.mimeType = notebook.codeMimetype;
    }
  }

  private _connection: ReactiveConnection | null = null;
  private _cellHooked = false;
  private _key = '';
  /** The cells the reason names: a change of theirs may change their labels. */
  private _links = new Set<string>();
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  if (node instanceof HTMLButtonElement) {
    node.type = 'button';
  }
  return node;
}

/** The notebook's content factory: stock cells, with our footer. */
export class ReactiveContentFactory extends NotebookPanel.ContentFactory {
  constructor(
    options: Cell.ContentFactory.IOptions,
    private readonly _notebooks: ReactiveNotebooks
  ) {
    super(options);
  }

  createCellFooter(): ICellFooter {
    return new ReactiveCellFooter(this._notebooks);
  }
}
