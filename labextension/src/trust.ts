/**
 * When a tab trusts the outputs of a cell that ran on the server (no DOM, no JupyterLab
 * imports: unit-tested).
 *
 * The stock notebook trusts the outputs of a cell it executed itself. A reactive run
 * happens on the server, which marks the cell trusted (`metadata.trusted`) in the very
 * transaction that clears its old outputs; a stock cell model reads that mark only when
 * it is created, so each tab takes it from that transaction, and only from it: by then
 * the model holds no output but those the transaction brought. Trusting a cell that still
 * shows outputs loaded from a file would run their script.
 */

/** What a shared cell change says (a subset of @jupyter/ydoc's `CellChange`). */
export interface ITrustChange {
  /** The metadata keys the transaction changed. */
  metadataChange?: { has(key: string): boolean };
  /** The outputs' delta: `insert` holds one output or a list of them. */
  outputsChange?: ReadonlyArray<{ insert?: unknown; delete?: number }>;
}

/** How many outputs a delta inserted. */
export function insertedOutputs(change: ITrustChange): number {
  return (change.outputsChange ?? []).reduce((count, op) => {
    const items = op.insert;
    return count + (Array.isArray(items) ? items.length : items ? 1 : 0);
  }, 0);
}

/**
 * Whether a change of a cell makes the tab trust it: it set `metadata.trusted` (now
 * `markedTrusted`) and every output the cell holds after it (`held`) came with it.
 */
export function trustsServerRun(
  change: ITrustChange,
  markedTrusted: boolean,
  held: number
): boolean {
  if (!markedTrusted || !change.metadataChange?.has('trusted')) {
    return false;
  }
  return held === insertedOutputs(change);
}
