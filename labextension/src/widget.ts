/** The "Reactive Notebook" document widget: the cell panel plus its toolbar. */
import { DocumentWidget } from '@jupyterlab/docregistry';

import { ReactiveNotebookPanel } from './panel';

/** The document widget: the panel plus its toolbar. */
export class ReactiveNotebookDocument extends DocumentWidget<ReactiveNotebookPanel> {}
