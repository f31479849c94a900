/**
 * One cell's row in the Reactive Notebook: a gutter (status mark, drag handle), a header
 * (type switch, a SQL cell's result variable, move / add / delete buttons), JupyterLab's
 * editor, the names the cell writes and reads (a read jumps to the cell defining it), the
 * reason it failed or is blocked, a conflict notice, and its outputs.
 */
import { CodeEditor, CodeEditorWrapper } from '@jupyterlab/codeeditor';
import {
  addAboveIcon,
  addBelowIcon,
  deleteIcon,
  LabIcon,
  moveDownIcon,
  moveUpIcon,
  runIcon
} from '@jupyterlab/ui-components';
import { Panel, PanelLayout, Widget } from '@lumino/widgets';

import { dynamicNote } from './dynamic';
import { ICellState } from './model';
import { renderOutput, stripAnsi } from './outputs';
import type { ReactiveNotebookPanel } from './panel';

const STATUS_MARKS: Record<string, string> = {
  idle: ' ',
  queued: '…',
  running: '◐',
  success: '✓',
  error: '✗',
  blocked: '⊘'
};

const STATUS_TEXT: Record<string, string> = {
  idle: 'not run yet',
  queued: 'queued',
  running: 'running',
  success: 'ran',
  error: 'failed',
  blocked: 'blocked: a cell it reads failed or is missing'
};

/** The MIME type of a cell type's editor language (SQL or Python highlighting). */
export function languageOf(type: string): string {
  return type === 'sql' ? 'sql' : 'python';
}

function iconButton(
  icon: LabIcon,
  title: string,
  action: string,
  onClick: () => void
): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'jp-ReactiveCell-button';
  button.title = title;
  button.setAttribute('aria-label', title);
  button.dataset.action = action;
  icon.element({ container: button, elementPosition: 'center' });
  button.addEventListener('click', event => {
    event.stopPropagation();
    onClick();
  });
  return button;
}

/** One cell's row. */
export class ReactiveCellWidget extends Widget {
  constructor(
    readonly cellId: string,
    private readonly _panel: ReactiveNotebookPanel
  ) {
    super();
    this.addClass('jp-ReactiveCell');
    this.node.tabIndex = -1;
    this.node.dataset.cellId = cellId;
    const layout = new PanelLayout();
    this.layout = layout;
    layout.addWidget(this._makeGutter());

    this._body = new Panel();
    this._body.addClass('jp-ReactiveCell-body');
    this._body.addWidget(new Widget({ node: this._makeHeader() }));
    const services = _panel.editorServices;
    this._editorModel = new CodeEditor.Model({
      mimeType: this._mimeType('python')
    });
    this._editor = new CodeEditorWrapper({
      factory: services.factoryService.newInlineEditor,
      model: this._editorModel,
      editorOptions: { config: { lineNumbers: false } }
    });
    this._editor.addClass('jp-ReactiveCell-editor');
    this._body.addWidget(this._editor);
    this._meta = this._addNode('jp-ReactiveCell-meta');
    this._reason = this._addNode('jp-ReactiveCell-reason');
    this._conflict = this._addNode('jp-ReactiveCell-conflict');
    this._outputs = new Panel();
    this._outputs.addClass('jp-ReactiveCell-outputs');
    this._body.addWidget(this._outputs);
    layout.addWidget(this._body);

    this._editorModel.sharedModel.changed.connect(() => {
      if (!this._settingCode) {
        _panel.onLocalEdit(
          this.cellId,
          this._editorModel.sharedModel.getSource()
        );
      }
    });
    this.node.addEventListener('focusin', () => _panel.setActiveCell(this));
    this.node.addEventListener('focusout', (event: FocusEvent) => {
      if (!this.node.contains(event.relatedTarget as Node | null)) {
        _panel.onLeaveCell(this.cellId);
      }
    });
    this._listenForDrops();
  }

  get code(): string {
    return this._editorModel.sharedModel.getSource();
  }

  focusEditor(): void {
    this._editor.editor.focus();
  }

  /** Scroll the cell into view and mark it for a moment (a jump from a read). */
  reveal(): void {
    this.node.scrollIntoView({ block: 'nearest' });
    this.addClass('jp-mod-revealed');
    setTimeout(() => this.removeClass('jp-mod-revealed'), 1500);
  }

  /** Show the cell's state as the model has it. */
  render(cell: ICellState): void {
    if (this._editorModel.sharedModel.getSource() !== cell.code) {
      this._settingCode = true;
      try {
        this._editorModel.sharedModel.setSource(cell.code);
      } finally {
        this._settingCode = false;
      }
    }
    if (this.node.dataset.type !== cell.type) {
      this._editorModel.mimeType = this._mimeType(cell.type);
    }
    this.node.dataset.type = cell.type;
    this.node.dataset.status = cell.status;
    this.node.dataset.stale = String(cell.stale);
    this._renderHeader(cell);
    this._status.textContent = STATUS_MARKS[cell.status] ?? '?';
    const said = STATUS_TEXT[cell.status] ?? cell.status;
    this._status.title = cell.stale
      ? `${said}; stale: something it reads changed since it ran`
      : said;
    this._status.setAttribute('aria-label', this._status.title);
    this._renderMeta(cell);
    this._renderReason(cell);
    this._renderConflict();
    this._renderOutputs(cell);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    super.dispose();
    this._editorModel.dispose();
  }

  private _mimeType(type: string): string {
    return this._panel.editorServices.mimeTypeService.getMimeTypeByLanguage({
      name: languageOf(type)
    });
  }

  private _addNode(className: string): HTMLElement {
    const widget = new Widget();
    widget.addClass(className);
    this._body.addWidget(widget);
    return widget.node;
  }

  /** The status mark, which is also the handle to drag the cell by. */
  private _makeGutter(): Widget {
    const gutter = new Widget();
    gutter.addClass('jp-ReactiveCell-gutter');
    const handle = gutter.node;
    handle.draggable = true;
    handle.title = 'Drag to move the cell';
    this._status = document.createElement('div');
    this._status.className = 'jp-ReactiveCell-status';
    handle.appendChild(this._status);
    handle.addEventListener('dragstart', event => {
      this._panel.dragging = this.cellId;
      event.dataTransfer?.setData('text/plain', this.cellId);
      if (event.dataTransfer) {
        event.dataTransfer.effectAllowed = 'move';
        event.dataTransfer.setDragImage(this.node, 0, 0);
      }
      this.addClass('jp-mod-dragging');
    });
    handle.addEventListener('dragend', () => {
      this._panel.dragging = null;
      this.removeClass('jp-mod-dragging');
    });
    return gutter;
  }

  private _makeHeader(): HTMLElement {
    const header = document.createElement('div');
    header.className = 'jp-ReactiveCell-header';

    this._type = document.createElement('select');
    this._type.className = 'jp-ReactiveCell-type';
    this._type.title = 'Cell type';
    this._type.setAttribute('aria-label', 'Cell type');
    for (const [value, label] of [
      ['python', 'Python'],
      ['sql', 'SQL']
    ]) {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = label;
      this._type.appendChild(option);
    }
    this._type.addEventListener('change', () => {
      void this._panel.setCellType(this.cellId, this._type.value);
    });

    this._output = document.createElement('label');
    this._output.className = 'jp-ReactiveCell-output';
    this._output.title = 'The variable the result of the query is bound to';
    this._output.append('result in ');
    this._outputInput = document.createElement('input');
    this._outputInput.spellcheck = false;
    this._outputInput.size = 8;
    this._outputInput.setAttribute('aria-label', 'Result variable');
    this._outputInput.addEventListener('change', () => {
      void this._panel.setOutputVariable(
        this.cellId,
        this._outputInput.value.trim()
      );
    });
    this._outputInput.addEventListener('keydown', event => {
      event.stopPropagation(); // Enter and Shift+Enter belong to the field here
      if (event.key === 'Enter') {
        this._outputInput.blur();
      }
    });
    this._output.appendChild(this._outputInput);

    this._badge = document.createElement('span');
    this._badge.className = 'jp-ReactiveCell-badge';

    const spacer = document.createElement('span');
    spacer.className = 'jp-ReactiveCell-spacer';

    const panel = this._panel;
    const id = this.cellId;
    const buttons = document.createElement('span');
    buttons.className = 'jp-ReactiveCell-buttons';
    buttons.append(
      iconButton(runIcon, 'Run this cell and its dependents', 'run', () => {
        void panel.runCell(id);
      }),
      iconButton(moveUpIcon, 'Move up', 'move-up', () => {
        void panel.moveCellBy(id, -1);
      }),
      iconButton(moveDownIcon, 'Move down', 'move-down', () => {
        void panel.moveCellBy(id, 1);
      }),
      iconButton(addAboveIcon, 'Add a cell above', 'add-above', () => {
        void panel.insertCell(id, 'above');
      }),
      iconButton(addBelowIcon, 'Add a cell below', 'add-below', () => {
        void panel.insertCell(id, 'below');
      }),
      iconButton(deleteIcon, 'Delete this cell', 'delete', () => {
        void panel.deleteCell(id);
      })
    );
    header.append(this._type, this._output, this._badge, spacer, buttons);
    return header;
  }

  private _renderHeader(cell: ICellState): void {
    const runs = cell.type === 'python' || cell.type === 'sql';
    this._type.disabled = !runs;
    if (!runs && this._type.options.length === 2) {
      // A markdown or raw cell of an imported notebook: shown, not switchable here.
      const option = document.createElement('option');
      option.value = cell.type;
      option.textContent = cell.type === 'markdown' ? 'Markdown' : 'Raw';
      this._type.appendChild(option);
    }
    this._type.value = cell.type;
    this._output.hidden = cell.type !== 'sql';
    if (
      cell.type === 'sql' &&
      document.activeElement !== this._outputInput &&
      this._outputInput.value !== (cell.output ?? '')
    ) {
      this._outputInput.value = cell.output ?? '';
    }
    const pending = cell.status === 'queued' || cell.status === 'running';
    this._badge.textContent = cell.stale && !pending ? 'stale' : '';
    this._badge.title = this._badge.textContent
      ? 'Something this cell reads changed since it ran: its outputs are out of date.'
      : '';
  }

  /** Why the cell failed or is blocked; the cells it names are links ("#2"). */
  private _renderReason(cell: ICellState): void {
    const text =
      (cell.status === 'error' || cell.status === 'blocked') && cell.error
        ? cell.error
        : '';
    const cells = this._panel.model?.cells ?? [];
    const named = cells.filter(other => text.includes(other.id));
    const key = JSON.stringify([
      text,
      named.map(c => [c.id, cells.indexOf(c)])
    ]);
    if (key === this._reasonKey) {
      return;
    }
    this._reasonKey = key;
    this._reason.replaceChildren();
    if (!named.length) {
      this._reason.textContent = text;
      return;
    }
    const escaped = named.map(c => c.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const pattern = new RegExp(
      `(?<![\\w-])(${escaped.join('|')})(?![\\w-])`,
      'g'
    );
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      const id = match[1];
      const position = cells.findIndex(c => c.id === id) + 1;
      this._reason.append(text.slice(last, match.index));
      const link = document.createElement('button');
      link.type = 'button';
      link.className = 'jp-ReactiveCell-cellLink';
      link.dataset.cellId = id;
      link.textContent = `#${position}`;
      link.title = `Go to cell ${position}`;
      link.addEventListener('click', event => {
        event.stopPropagation();
        this._panel.revealCell(id);
      });
      this._reason.append(link);
      last = (match.index ?? 0) + match[0].length;
    }
    this._reason.append(text.slice(last));
  }

  /** "writes a, b · reads x, y": each read is a link to the cell defining it. */
  private _renderMeta(cell: ICellState): void {
    const key = JSON.stringify([cell.writes, cell.reads, cell.dynamic ?? null]);
    if (key === this._metaKey) {
      this._markUndefinedReads(cell);
      return;
    }
    this._metaKey = key;
    this._meta.replaceChildren();
    if (cell.writes.length) {
      this._meta.append('writes ');
      cell.writes.forEach((name, i) => {
        const code = document.createElement('code');
        code.className = 'jp-ReactiveCell-write';
        code.textContent = name;
        this._meta.append(...(i ? [', ', code] : [code]));
      });
    }
    if (cell.reads.length) {
      this._meta.append(cell.writes.length ? ' · reads ' : 'reads ');
      cell.reads.forEach((name, i) => {
        const link = document.createElement('button');
        link.type = 'button';
        link.className = 'jp-ReactiveCell-read';
        link.dataset.name = name;
        link.textContent = name;
        link.addEventListener('click', event => {
          event.stopPropagation();
          this._panel.revealDefinition(this.cellId, name);
        });
        this._meta.append(...(i ? [', ', link] : [link]));
      });
    }
    const note = dynamicNote(cell);
    if (note) {
      const span = document.createElement('span');
      span.className = 'jp-ReactiveCell-dynamic';
      span.textContent = note.text;
      span.title = note.title;
      this._meta.append(this._meta.childNodes.length ? ' · ' : '', span);
    }
    this._markUndefinedReads(cell);
  }

  private _markUndefinedReads(cell: ICellState): void {
    const model = this._panel.model;
    for (const link of this._meta.querySelectorAll<HTMLElement>(
      '.jp-ReactiveCell-read'
    )) {
      const name = link.dataset.name ?? '';
      const definer = model?.definerOf(cell.id, name) ?? null;
      link.dataset.defined = String(definer !== null);
      link.title = definer
        ? `Go to the cell that defines ${name}`
        : `No cell defines ${name}`;
    }
  }

  /** Drop targets: dropping a dragged cell on the upper half puts it above this one. */
  private _listenForDrops(): void {
    const where = (event: DragEvent): 'above' | 'below' => {
      const box = this.node.getBoundingClientRect();
      return event.clientY < box.top + box.height / 2 ? 'above' : 'below';
    };
    this.node.addEventListener('dragover', event => {
      const dragged = this._panel.dragging;
      if (dragged === null || dragged === this.cellId) {
        return;
      }
      event.preventDefault();
      if (event.dataTransfer) {
        event.dataTransfer.dropEffect = 'move';
      }
      this.node.dataset.drop = where(event);
    });
    this.node.addEventListener('dragleave', event => {
      if (!this.node.contains(event.relatedTarget as Node | null)) {
        delete this.node.dataset.drop;
      }
    });
    this.node.addEventListener('drop', event => {
      const dragged = this._panel.dragging;
      delete this.node.dataset.drop;
      if (dragged === null || dragged === this.cellId) {
        return;
      }
      event.preventDefault();
      void this._panel.dropCell(dragged, this.cellId, where(event));
    });
  }

  private _renderConflict(): void {
    const conflict = this._panel.model?.conflict(this.cellId) ?? null;
    this._conflict.replaceChildren();
    if (!conflict) {
      return;
    }
    const text = document.createElement('span');
    text.textContent =
      'Someone else changed this cell while you were editing it.';
    const keep = document.createElement('button');
    keep.className = 'jp-mod-styled';
    keep.textContent = 'Keep mine';
    // Choosing a side is not leaving the cell: the editor takes the focus back (and its
    // caret) before the buttons go, or their removal would blur the cell (and run it).
    keep.onclick = () => {
      this.focusEditor();
      this._panel.resolveConflict(this.cellId, 'local');
    };
    const take = document.createElement('button');
    take.className = 'jp-mod-styled';
    take.textContent = 'Take theirs';
    take.onclick = () => {
      this.focusEditor();
      this._panel.resolveConflict(this.cellId, 'remote');
    };
    this._conflict.append(text, keep, take);
  }

  private _renderOutputs(cell: ICellState): void {
    const key = JSON.stringify([
      cell.type,
      cell.trusted,
      cell.outputs,
      cell.stdout,
      cell.stderr,
      cell.traceback
    ]);
    if (key === this._outputsKey) {
      return;
    }
    this._outputsKey = key;
    for (const widget of [...this._outputs.widgets]) {
      widget.dispose();
    }
    const stream = (name: string, text: string) => {
      const pre = document.createElement('pre');
      pre.className = 'jp-ReactiveCell-stream';
      pre.dataset.name = name;
      pre.textContent = text;
      this._outputs.addWidget(new Widget({ node: pre }));
    };
    if (cell.stdout) {
      stream('stdout', cell.stdout);
    }
    if (cell.stderr) {
      stream('stderr', cell.stderr);
    }
    for (const output of cell.outputs) {
      this._outputs.addWidget(
        renderOutput(output, this._panel.rendermime, cell.trusted, {
          hideDefaultIndex: cell.type === 'sql'
        })
      );
    }
    if (cell.traceback) {
      const pre = document.createElement('pre');
      pre.className = 'jp-ReactiveCell-traceback';
      const lines = cell.traceback.traceback.length
        ? cell.traceback.traceback
        : [`${cell.traceback.ename}: ${cell.traceback.evalue}`];
      pre.textContent = stripAnsi(lines.join('\n'));
      this._outputs.addWidget(new Widget({ node: pre }));
    }
  }

  private _status!: HTMLElement;
  private _type!: HTMLSelectElement;
  private _output!: HTMLLabelElement;
  private _outputInput!: HTMLInputElement;
  private _badge!: HTMLElement;
  private _body: Panel;
  private _editorModel: CodeEditor.Model;
  private _editor: CodeEditorWrapper;
  private _meta: HTMLElement;
  private _reason: HTMLElement;
  private _conflict: HTMLElement;
  private _outputs: Panel;
  private _outputsKey = '';
  private _metaKey = '';
  private _reasonKey = '';
  private _settingCode = false;
}
