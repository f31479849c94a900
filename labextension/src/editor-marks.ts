/**
 * The CodeMirror side of the decorations: the line of a cell's syntax error, marked in
 * its editor. One extension in every editor (`IEditorExtensionRegistry`); the footer of
 * a cell sets or clears the mark with `markErrorLine`.
 */
import { StateEffect, StateField } from '@codemirror/state';
import { Decoration, DecorationSet, EditorView } from '@codemirror/view';

/** Set the marked line (1-based), or clear it with null. */
const setErrorLine = StateEffect.define<number | null>();

const errorLine = Decoration.line({
  attributes: {
    class: 'jp-ReactiveErrorLine',
    title: 'This line does not parse'
  }
});

/** The marked line of one editor; kept on its line while the user edits around it. */
export const errorLineField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(marks, transaction) {
    let next = marks.map(transaction.changes);
    for (const effect of transaction.effects) {
      if (effect.is(setErrorLine)) {
        const line = effect.value;
        const doc = transaction.state.doc;
        next =
          line !== null && line >= 1 && line <= doc.lines
            ? Decoration.set([errorLine.range(doc.line(line).from)])
            : Decoration.none;
      }
    }
    return next;
  },
  provide: field => EditorView.decorations.from(field)
});

/** The line now marked in `view` (1-based), null when none is. */
export function markedErrorLine(view: EditorView): number | null {
  const marks = view.state.field(errorLineField, false);
  if (!marks || marks.size === 0) {
    return null;
  }
  const iterator = marks.iter();
  return iterator.value ? view.state.doc.lineAt(iterator.from).number : null;
}

/** Mark line `line` (1-based) of `view`, or clear the mark (null). */
export function markErrorLine(view: EditorView, line: number | null): void {
  if (view.state.field(errorLineField, false) === undefined) {
    return; // an editor made without our extension
  }
  if (markedErrorLine(view) === line) {
    return;
  }
  view.dispatch({ effects: setErrorLine.of(line) });
}
