/**
 * One cell's row in the Reactive Notebook: its status mark, JupyterLab's editor, the
 * names it reads and writes, the reason it failed or is blocked, and its outputs.
 */
import { CodeEditor, CodeEditorWrapper } from '@jupyterlab/codeeditor';
import { Panel, PanelLayout, Widget } from '@lumino/widgets';

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

/** One cell's row. */
export class ReactiveCellWidget extends Widget {
  constructor(
    readonly cellId: string,
    private readonly _panel: ReactiveNotebookPanel
  ) {
    super();
    this.addClass('jp-ReactiveCell');
    this.node.tabIndex = -1;
    const layout = new PanelLayout();
    this.layout = layout;
    const status = new Widget();
    status.addClass('jp-ReactiveCell-status');
    this._status = status.node;
    layout.addWidget(status);

    this._body = new Panel();
    this._body.addClass('jp-ReactiveCell-body');
    const services = _panel.editorServices;
    this._editorModel = new CodeEditor.Model({
      mimeType: services.mimeTypeService.getMimeTypeByLanguage({
        name: 'python'
      })
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
  }

  get code(): string {
    return this._editorModel.sharedModel.getSource();
  }

  focusEditor(): void {
    this._editor.editor.focus();
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
    this.node.dataset.status = cell.status;
    this.node.dataset.stale = String(cell.stale);
    this._status.textContent = STATUS_MARKS[cell.status] ?? '?';
    this._status.title = cell.stale ? `${cell.status} (stale)` : cell.status;
    const reads = cell.reads.length ? `reads ${cell.reads.join(', ')}` : '';
    const writes = cell.writes.length ? `writes ${cell.writes.join(', ')}` : '';
    this._meta.textContent = [writes, reads].filter(Boolean).join(' · ');
    this._reason.textContent =
      (cell.status === 'error' || cell.status === 'blocked') && cell.error
        ? cell.error
        : '';
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

  private _addNode(className: string): HTMLElement {
    const widget = new Widget();
    widget.addClass(className);
    this._body.addWidget(widget);
    return widget.node;
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
      this._outputs.addWidget(renderOutput(output, this._panel.rendermime));
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

  private _status: HTMLElement;
  private _body: Panel;
  private _editorModel: CodeEditor.Model;
  private _editor: CodeEditorWrapper;
  private _meta: HTMLElement;
  private _reason: HTMLElement;
  private _conflict: HTMLElement;
  private _outputs: Panel;
  private _outputsKey = '';
  private _settingCode = false;
}
