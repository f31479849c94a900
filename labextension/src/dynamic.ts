/**
 * The note a cell shows when it reads names dynamically (`eval(s)`, `globals()`, or a
 * function of the notebook that does): the server counts it as reading every name
 * defined above it, and says why in the cell's `dynamic` field.
 */
import { ICell } from './types';

export interface IDynamicNote {
  /** Shown on the cell: "reads names dynamically (eval in show)". */
  text: string;
  /** The explanation, as a tooltip. */
  title: string;
}

/** The note for a cell, or null when it reads only the names listed in `reads`. */
export function dynamicNote(cell: Pick<ICell, 'dynamic'>): IDynamicNote | null {
  const reason = cell.dynamic?.trim();
  if (!reason) {
    return null;
  }
  return {
    text: reason,
    title:
      `This cell ${reason}: names reached by string cannot be listed, so it counts as ` +
      'reading every name defined by the cells above it, and re-runs when any of them ' +
      'changes.'
  };
}
