/**
 * "New Reactive Notebook": create the notebook where the user is (the launcher's or the
 * file browser's folder), falling back to the user's notebooks folder when the server
 * will not put it there (another user's folder in a per-user layout, a hidden folder...).
 */
import { ReactiveAPI, ReactiveAPIError } from './api';

export interface ICreatedNotebook {
  notebook_id: string;
  path?: string;
}

export interface INewNotebook {
  created: ICreatedNotebook;
  /** Why the notebook is not in the folder asked for (the server's message). */
  refusedFolder?: string;
}

/**
 * Create a notebook in `folder` (a contents path; '' is the root), or in the user's
 * notebooks folder when `folder` is undefined or the server refuses it.
 */
export async function createNotebookIn(
  api: Pick<ReactiveAPI, 'createNotebook'>,
  folder: string | undefined
): Promise<INewNotebook> {
  if (folder === undefined) {
    return { created: await api.createNotebook() };
  }
  try {
    return { created: await api.createNotebook({ folder }) };
  } catch (error) {
    if (
      error instanceof ReactiveAPIError &&
      error.status === 400 &&
      error.field === 'folder'
    ) {
      return {
        created: await api.createNotebook(),
        refusedFolder: error.message
      };
    }
    throw error;
  }
}
