import { ICell, INotebook } from '../types';

export function cell(id: string, code = '', extra: Partial<ICell> = {}): ICell {
  return {
    id,
    type: 'python',
    code,
    status: 'idle',
    stale: false,
    stdout: '',
    stderr: '',
    outputs: [],
    trusted: false,
    error: null,
    reads: [],
    writes: [],
    ...extra
  };
}

export function notebook(cells: ICell[], revision = 1): INotebook {
  return { id: 'nb1', name: 'Demo', db_conn_string: '', revision, cells };
}
