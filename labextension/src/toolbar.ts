/**
 * The kernel status item of the Reactive Notebook's toolbar: a circle and a word for the
 * notebook kernel's state (from the `kernel_status` events the model applies), or
 * "disconnected" while the notebook's WebSocket is down. `data-state` carries the state
 * for styles and tests.
 */
import { Widget } from '@lumino/widgets';

import { IKernelIndicator, kernelIndicator } from './kernel-indicator';
import { ReactiveNotebookModel } from './model';
import { ReactiveNotebookPanel } from './panel';
import { NotebookSocket } from './socket';

/** The toolbar item; follows the panel's model and socket once the panel has them. */
export class KernelStatus extends Widget {
  constructor(panel: ReactiveNotebookPanel) {
    super();
    this.addClass('jp-ReactiveKernelStatus');
    this.node.setAttribute('role', 'status');
    const circle = document.createElement('span');
    circle.className = 'jp-ReactiveKernelStatus-circle';
    this._label = document.createElement('span');
    this._label.className = 'jp-ReactiveKernelStatus-label';
    this.node.append(circle, this._label);
    if (panel.model && panel.socket) {
      this._follow(panel.model, panel.socket);
    } else {
      panel.modelReady.connect((sender, model) => {
        if (sender.socket) {
          this._follow(model, sender.socket);
        }
      });
    }
    this._show();
  }

  /** What the item shows now. */
  get indicator(): IKernelIndicator {
    return kernelIndicator(
      this._model?.kernelState ?? 'unknown',
      this._socket?.status ?? 'connecting',
      this._everConnected
    );
  }

  private _follow(model: ReactiveNotebookModel, socket: NotebookSocket): void {
    this._model = model;
    this._socket = socket;
    this._everConnected = socket.status === 'connected';
    model.changed.connect((_, change) => {
      if (change.kind === 'kernel') {
        this._show();
      }
    }, this);
    socket.statusChanged.connect((_, status) => {
      if (status === 'connected') {
        this._everConnected = true;
      }
      this._show();
    }, this);
    this._show();
  }

  private _show(): void {
    const { state, label, tooltip } = this.indicator;
    this.node.dataset.state = state;
    this.node.title = tooltip;
    this.node.setAttribute('aria-label', `Kernel: ${label}. ${tooltip}`);
    this._label.textContent = label;
  }

  private _label: HTMLSpanElement;
  private _model: ReactiveNotebookModel | null = null;
  private _socket: NotebookSocket | null = null;
  private _everConnected = false;
}
