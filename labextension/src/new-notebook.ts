/**
 * "New Reactive Notebook": create the notebook where the user is (the launcher's or the
 * file browser's folder), falling back to the user's notebooks folder when the server
 * will not put it there (another user's folder in a per-user layout, a hidden folder...).
 */
import { Contents } from '@jupyterlab/services';

import { ReactiveAPI, ReactiveAPIError } from './api';
import { storedId } from './ids';

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

/**
 * The path of a notebook that was just created, for an older server whose create answer
 * has no `path`: the newest notebooks of the contents root, searched for the id.
 */
export async function findCreated(
  contents: Contents.IManager,
  notebookId: string
): Promise<string | null> {
  const listing = await contents.get('', { content: true });
  const candidates = (listing.content as Contents.IModel[])
    .filter(item => item.type === 'notebook' || item.path.endsWith('.ipynb'))
    .sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''))
    .slice(0, 20);
  for (const item of candidates) {
    const model = await contents.get(item.path, { content: true });
    if (storedId(model.content) === notebookId) {
      return item.path;
    }
  }
  return null;
}
