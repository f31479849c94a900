import { isTable, tableShape } from '../table';
import { ITableData } from '../types';

function table(extra: Partial<ITableData> = {}): ITableData {
  return {
    type: 'table',
    columns: ['index', 'name', 'price'],
    rows: [
      [0, 'a', 1.5],
      [1, 'b', 2]
    ],
    truncated: null,
    total_rows: 2,
    index_columns: 1,
    ...extra
  };
}

describe('tables', () => {
  it('recognises a table output', () => {
    expect(isTable(table())).toBe(true);
    expect(isTable({ type: 'table', columns: [] })).toBe(false);
    expect(isTable(null)).toBe(false);
  });

  it('shows the index as row headers and counts rows and data columns', () => {
    expect(tableShape(table())).toEqual({
      columns: [0, 1, 2],
      headerColumns: 1,
      note: '2 rows × 2 columns'
    });
  });

  it("leaves out a SQL result's default index (0, 1, 2...)", () => {
    expect(tableShape(table(), { hideDefaultIndex: true })).toEqual({
      columns: [1, 2],
      headerColumns: 0,
      note: '2 rows × 2 columns'
    });
  });

  it('keeps an index that is not the default one', () => {
    const named = table({ columns: ['id', 'name', 'price'] });
    expect(tableShape(named, { hideDefaultIndex: true }).columns).toEqual([
      0, 1, 2
    ]);
    const filtered = table({
      rows: [
        [3, 'a', 1],
        [7, 'b', 2]
      ]
    });
    expect(tableShape(filtered, { hideDefaultIndex: true }).headerColumns).toBe(
      1
    );
  });

  it('says how much was left out, or the whole size', () => {
    const big = table({ total_rows: 5000, truncated: null });
    expect(tableShape(big).note).toBe('5,000 rows × 2 columns');
    const cut = table({ truncated: 'showing 1000 of 5000 rows' });
    expect(tableShape(cut).note).toBe('showing 1000 of 5000 rows');
    const polars = table({ columns: ['a'], rows: [[1]], index_columns: 0 });
    expect(tableShape(polars, { hideDefaultIndex: true })).toEqual({
      columns: [0],
      headerColumns: 0,
      note: '2 rows × 1 column'
    });
  });
});
