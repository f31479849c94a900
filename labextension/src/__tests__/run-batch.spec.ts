import { ICellRun, RunBatcher } from '../run-batch';

function manual(): {
  batcher: RunBatcher;
  sent: ICellRun[][];
  flush: () => void;
} {
  const sent: ICellRun[][] = [];
  let scheduled: (() => void) | null = null;
  const batcher = new RunBatcher(
    async runs => {
      sent.push(runs);
    },
    flush => (scheduled = flush)
  );
  return {
    batcher,
    sent,
    flush: () => {
      const run = scheduled;
      scheduled = null;
      run?.();
    }
  };
}

describe('RunBatcher', () => {
  it('sends the cells asked for in the same moment as one request, in order', async () => {
    const { batcher, sent, flush } = manual();
    const runs = [
      batcher.add('a', 'x = 1'),
      batcher.add('b', 'y = x'),
      batcher.add('c', 'z')
    ];
    flush();
    await Promise.all(runs);
    expect(sent).toEqual([
      [
        { cellId: 'a', code: 'x = 1' },
        { cellId: 'b', code: 'y = x' },
        { cellId: 'c', code: 'z' }
      ]
    ]);
    // A later run is a request of its own.
    const later = batcher.add('a', 'x = 2');
    flush();
    await later;
    expect(sent[1]).toEqual([{ cellId: 'a', code: 'x = 2' }]);
  });

  it('runs a cell asked for twice once, with its latest code', async () => {
    const { batcher, sent, flush } = manual();
    const first = batcher.add('a', 'x = 1');
    const second = batcher.add('a', 'x = 2');
    flush();
    await Promise.all([first, second]);
    expect(sent).toEqual([[{ cellId: 'a', code: 'x = 2' }]]);
  });

  it('fails every run of a request the server refused', async () => {
    const batcher = new RunBatcher(
      () => Promise.reject(new Error('409: not arrived')),
      flush => flush()
    );
    const runs = [batcher.add('a', '1'), batcher.add('b', '2')];
    await expect(runs[0]).rejects.toThrow('409');
    await expect(runs[1]).rejects.toThrow('409');
  });
});
