/**
 * Saving a cell's code: what this client believes the server has for each cell, and
 * sending the user's code when it differs. Each update names the revision it is based
 * on (`expected_revision`); the last writer wins per cell:
 *
 * - a 409 because another *cell* changed meanwhile: the events that caused it reached
 *   the model before the refusal, so the update is simply sent again on the new revision;
 * - a 409 because this *cell* changed meanwhile: the model holds a conflict for the user
 *   to settle (keep mine / take theirs), and nothing is sent until they do.
 */
import { ReactiveNotebookModel } from './model';
import { SocketCommandError } from './socket';
import { IClientCommand } from './types';

/** How many times an update refused as stale is sent again before giving up. */
export const MAX_RESENDS = 5;

export class CellSaver {
  constructor(
    private readonly _model: ReactiveNotebookModel,
    private readonly _send: (command: IClientCommand) => Promise<unknown>
  ) {}

  /** Whether the cell's code differs from what the server has. */
  isDirty(cellId: string): boolean {
    return this._model.cell(cellId)?.code !== this._saved.get(cellId);
  }

  /** The server has `code` for the cell (a snapshot, an echo, a choice in a conflict). */
  markSaved(cellId: string, code: string): void {
    this._saved.set(cellId, code);
  }

  /** Not known what the server has: the next `save` sends the code. */
  forget(cellId: string): void {
    this._saved.delete(cellId);
  }

  /** Send the cell's code if the server does not have it (and no conflict is open). */
  async save(cellId: string): Promise<void> {
    const model = this._model;
    for (let attempt = 0; ; attempt++) {
      const code = model.cell(cellId)?.code;
      if (
        code === undefined ||
        this._saved.get(cellId) === code ||
        model.conflict(cellId)
      ) {
        return;
      }
      model.noteSent(cellId, code);
      try {
        await this._send({
          type: 'cell_update',
          cell_id: cellId,
          code,
          expected_revision: model.revision
        });
      } catch (error) {
        const stale =
          error instanceof SocketCommandError && error.revision !== undefined;
        if (!stale || attempt >= MAX_RESENDS) {
          throw error;
        }
        continue;
      }
      this._saved.set(cellId, code);
      return;
    }
  }

  private _saved = new Map<string, string>();
}
