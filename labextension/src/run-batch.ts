/**
 * Runs asked for together go to the server together. JupyterLab runs a selection (Run
 * All, Run Selected, Run All Above/Below, Shift+Enter on several cells) by asking the
 * cell executor for each cell in turn, all in the same moment: one request per cell would
 * cost a round trip and a wait for the document each. The batcher gathers the cells asked
 * for until the next task and sends them as one request.
 */

/** One cell to run, with its source as the editor shows it. */
export interface ICellRun {
  cellId: string;
  code: string;
}

/** Sends one request for `runs` (in the order they were asked for). */
export type SendRuns = (runs: ICellRun[]) => Promise<void>;

interface IPending extends ICellRun {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class RunBatcher {
  constructor(
    private readonly _send: SendRuns,
    private readonly _schedule: (flush: () => void) => void = flush =>
      void setTimeout(flush, 0)
  ) {}

  /** Ask for a run of the cell; settles when the request carrying it was answered. */
  add(cellId: string, code: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // A cell asked for twice before the flush runs once, with its latest code.
      this._pending = this._pending.filter(run => {
        if (run.cellId !== cellId) {
          return true;
        }
        run.resolve();
        return false;
      });
      this._pending.push({ cellId, code, resolve, reject });
      if (!this._scheduled) {
        this._scheduled = true;
        this._schedule(() => void this._flush());
      }
    });
  }

  private async _flush(): Promise<void> {
    const runs = this._pending;
    this._pending = [];
    this._scheduled = false;
    if (!runs.length) {
      return;
    }
    try {
      await this._send(runs.map(({ cellId, code }) => ({ cellId, code })));
      runs.forEach(run => run.resolve());
    } catch (error) {
      runs.forEach(run => run.reject(error));
    }
  }

  private _pending: IPending[] = [];
  private _scheduled = false;
}
