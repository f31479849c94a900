import { ReactiveAPIError } from '../api';
import { createNotebookIn } from '../new-notebook';

function fakeApi(refuse?: ReactiveAPIError) {
  return {
    createNotebook: jest.fn(async (options: { folder?: string } = {}) => {
      if (options.folder !== undefined && refuse) {
        throw refuse;
      }
      const folder = options.folder ?? 'notebooks';
      return { notebook_id: 'n1', path: `${folder}/Untitled.ipynb` };
    })
  };
}

describe('createNotebookIn', () => {
  it('creates the notebook in the folder asked for', async () => {
    const api = fakeApi();
    await expect(createNotebookIn(api, 'q3/drafts')).resolves.toEqual({
      created: { notebook_id: 'n1', path: 'q3/drafts/Untitled.ipynb' }
    });
    expect(api.createNotebook).toHaveBeenCalledWith({ folder: 'q3/drafts' });
  });

  it('uses the notebooks folder without a folder', async () => {
    const api = fakeApi();
    const { created } = await createNotebookIn(api, undefined);
    expect(created.path).toBe('notebooks/Untitled.ipynb');
    expect(api.createNotebook).toHaveBeenCalledWith();
  });

  it('falls back to the notebooks folder when the server refuses the folder, and says why', async () => {
    const refusal = new ReactiveAPIError(
      "'other' is not a folder of yours",
      400,
      {
        message: "'other' is not a folder of yours",
        field: 'folder'
      }
    );
    const api = fakeApi(refusal);
    await expect(createNotebookIn(api, 'other')).resolves.toEqual({
      created: { notebook_id: 'n1', path: 'notebooks/Untitled.ipynb' },
      refusedFolder: "'other' is not a folder of yours"
    });
    expect(api.createNotebook).toHaveBeenCalledTimes(2);
  });

  it('does not retry other failures', async () => {
    const failure = new ReactiveAPIError('name: too long', 400, {
      message: 'name: too long',
      field: 'name'
    });
    const api = fakeApi(failure);
    await expect(createNotebookIn(api, 'q3')).rejects.toBe(failure);
    expect(api.createNotebook).toHaveBeenCalledTimes(1);
  });
});
