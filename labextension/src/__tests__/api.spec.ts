import { ServerConnection } from '@jupyterlab/services';

import { ReactiveAPI, ReactiveAPIError, apiURL } from '../api';

jest.mock('@jupyterlab/services', () => ({
  ServerConnection: { makeRequest: jest.fn(), makeSettings: jest.fn() }
}));

const makeRequest = ServerConnection.makeRequest as jest.Mock;

function reply(status: number, body?: unknown): Response {
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: 'status',
    text: async () => (body === undefined ? '' : JSON.stringify(body)),
    json: async () => body
  } as Response;
}

const settings = {
  baseUrl: 'http://localhost:8888/user/ada/'
} as ServerConnection.ISettings;

describe('ReactiveAPI', () => {
  const api = new ReactiveAPI(settings);

  beforeEach(() => makeRequest.mockReset());

  it('builds URLs under the base URL', () => {
    expect(apiURL(settings, 'notebooks', 'a/b')).toBe(
      'http://localhost:8888/user/ada/reactive/api/v1/notebooks/a%2Fb'
    );
  });

  it('creates a notebook with a JSON body', async () => {
    makeRequest.mockResolvedValue(reply(201, { notebook_id: 'n1' }));
    await expect(api.createNotebook({ name: 'Sales' })).resolves.toEqual({
      notebook_id: 'n1'
    });
    const [url, init] = makeRequest.mock.calls[0];
    expect(url).toBe(
      'http://localhost:8888/user/ada/reactive/api/v1/notebooks'
    );
    expect(init.method).toBe('POST');
    expect(JSON.parse(init.body)).toEqual({ name: 'Sales' });
  });

  it('asks the server for its capabilities', async () => {
    const chat = { available: false, message: 'No LLM provider is configured' };
    makeRequest.mockResolvedValue(reply(200, { chat }));
    await expect(api.capabilities()).resolves.toEqual({ chat });
    const [url, init] = makeRequest.mock.calls[0];
    expect(url).toBe(
      'http://localhost:8888/user/ada/reactive/api/v1/capabilities'
    );
    expect(init.method).toBe('GET');
  });

  it('finds the notebook of a file by its path, or none', async () => {
    makeRequest.mockResolvedValueOnce(
      reply(200, {
        notebooks: [{ id: 'n7', name: 'Copy', path: 'sub/Copy 1.ipynb' }]
      })
    );
    await expect(api.notebookAt('sub/Copy 1.ipynb')).resolves.toEqual({
      id: 'n7',
      name: 'Copy',
      path: 'sub/Copy 1.ipynb'
    });
    expect(makeRequest.mock.calls[0][0]).toBe(
      'http://localhost:8888/user/ada/reactive/api/v1/notebooks?path=sub%2FCopy%201.ipynb'
    );
    makeRequest.mockResolvedValueOnce(reply(200, { notebooks: [] }));
    await expect(api.notebookAt('gone.ipynb')).resolves.toBeNull();
  });

  it('calls every endpoint with its method and path', async () => {
    makeRequest.mockImplementation(async () => reply(200, { notebooks: [] }));
    await api.listNotebooks();
    await api.getNotebook('n');
    await api.renameNotebook('n', 'x', { expectedRevision: 3 });
    await api.setDbConnection('n', 'duckdb://');
    await api.deleteNotebook('n');
    await api.createCell('n', { type: 'sql', after_cell_id: null });
    await api.getCell('n', 'c');
    await api.updateCell('n', 'c', 'x = 1', { expectedRevision: 4 });
    await api.moveCell('n', 'c', null);
    await api.deleteCell('n', 'c');
    await api.runCell('n', 'c', { wait: true, code: 'x = 1' });
    await api.runAll('n');
    await api.interrupt('n');
    const calls = makeRequest.mock.calls.map(([url, init]) => [
      init.method,
      String(url).replace(
        'http://localhost:8888/user/ada/reactive/api/v1/',
        ''
      ),
      init.body === undefined ? undefined : JSON.parse(init.body)
    ]);
    expect(calls).toEqual([
      ['GET', 'notebooks', undefined],
      ['GET', 'notebooks/n', undefined],
      ['PUT', 'notebooks/n/name', { name: 'x', expected_revision: 3 }],
      ['PUT', 'notebooks/n/db', { connection_string: 'duckdb://' }],
      ['DELETE', 'notebooks/n', undefined],
      ['POST', 'notebooks/n/cells', { type: 'sql', after_cell_id: null }],
      ['GET', 'notebooks/n/cells/c', undefined],
      ['PUT', 'notebooks/n/cells/c', { code: 'x = 1', expected_revision: 4 }],
      ['POST', 'notebooks/n/cells/c/move', { after_cell_id: null }],
      ['DELETE', 'notebooks/n/cells/c', undefined],
      ['POST', 'notebooks/n/cells/c/run', { wait: true, code: 'x = 1' }],
      ['POST', 'notebooks/n/run', {}],
      ['POST', 'notebooks/n/interrupt', {}]
    ]);
  });

  it("surfaces the server's JSON message", async () => {
    makeRequest.mockResolvedValue(
      reply(409, {
        message: 'The notebook changed',
        reason: 'Conflict',
        revision: 9
      })
    );
    const error = await api.updateCell('n', 'c', 'x').catch(e => e);
    expect(error).toBeInstanceOf(ReactiveAPIError);
    expect(error.message).toBe('The notebook changed');
    expect(error.status).toBe(409);
    expect(error.revision).toBe(9);
  });

  it('falls back to the status when the body is not JSON', async () => {
    makeRequest.mockResolvedValue({
      ...reply(502),
      text: async () => '<html>'
    });
    await expect(api.listNotebooks()).rejects.toThrow('failed: 502');
  });

  it('reports a network failure', async () => {
    makeRequest.mockRejectedValue(new TypeError('Failed to fetch'));
    await expect(api.getNotebook('n')).rejects.toThrow('could not be reached');
  });
});
