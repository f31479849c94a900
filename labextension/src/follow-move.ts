/**
 * The server renamed a notebook's file (Notebook Settings renames it after the
 * notebook's name): the open tab follows it to the new path.
 *
 * In a collaborative lab the tab follows by itself: the room finds the file by its id,
 * sees the new path on its next poll of the file (jupyter-collaboration's
 * `file_poll_interval`, 1 s) and its drive tells the document, which renames the tab in
 * place as a stock rename does (same panel: scroll, selection and undo kept). Without a
 * room, or if the room is late, the file is opened at its new path and the old tab
 * closed. The room can still move the old tab while that happens (`docmanager:open`
 * reads the file before it looks for a tab): then the command reveals the old tab
 * itself, and that tab must stay open.
 */
import { ISignal } from '@lumino/signaling';

/** The parts of a NotebookPanel the move touches. */
export interface IMovablePanel {
  readonly context: {
    readonly localPath: string;
    readonly pathChanged: ISignal<unknown, string>;
    readonly model: { readonly collaborative?: boolean } | null;
  };
  readonly isDisposed: boolean;
  close(): void;
}

export interface IFollowMoveOptions {
  /** Opens (or reveals) `path`'s document: `docmanager:open`. */
  open: (path: string) => Promise<unknown>;
  /** How long a collaborative document is given to follow by itself (ms). */
  roomGrace?: number;
}

/** How long a room is given to move its documents' tabs: a few of its 1 s polls. */
export const ROOM_GRACE_MS = 5000;

/**
 * Make `panel` show the file now at `path` (contents-root relative). Resolves with the
 * panel that shows it: `panel` itself when it followed, else the one opened.
 */
export async function followMove(
  panel: IMovablePanel,
  path: string,
  options: IFollowMoveOptions
): Promise<unknown> {
  const { open, roomGrace = ROOM_GRACE_MS } = options;
  const collaborative = panel.context.model?.collaborative === true;
  if (await reaches(panel, path, collaborative ? roomGrace : 0)) {
    return panel;
  }
  const opened = await open(path);
  if (opened !== panel && !panel.isDisposed) {
    panel.close();
  }
  return opened;
}

/** Whether the panel's document is at `path` now or gets there within `timeout` ms. */
function reaches(
  panel: IMovablePanel,
  path: string,
  timeout: number
): Promise<boolean> {
  const { context } = panel;
  if (context.localPath === path) {
    return Promise.resolve(true);
  }
  if (timeout <= 0 || panel.isDisposed) {
    return Promise.resolve(false);
  }
  return new Promise(resolve => {
    const onPath = (): void => {
      if (context.localPath === path) {
        finish(true);
      }
    };
    const timer = setTimeout(() => finish(false), timeout);
    const finish = (followed: boolean): void => {
      clearTimeout(timer);
      context.pathChanged.disconnect(onPath);
      resolve(followed);
    };
    context.pathChanged.connect(onPath);
  });
}
