import { Signal } from '@lumino/signaling';

import { followMove, IMovablePanel } from '../follow-move';

/** A tab on `path` whose document can be moved (as a room's drive or a session does). */
class FakePanel implements IMovablePanel {
  constructor(path: string, collaborative: boolean) {
    this._where = { path };
    const where = this._where;
    this.context = {
      get localPath() {
        return where.path;
      },
      pathChanged: this._pathChanged,
      model: { collaborative }
    };
  }

  readonly context: IMovablePanel['context'];
  isDisposed = false;
  closed = 0;

  close(): void {
    this.closed += 1;
    this.isDisposed = true;
  }

  /** The document now shows `path` (what the context does on a rename it hears of). */
  follow(path: string): void {
    this._where.path = path;
    this._pathChanged.emit(path);
  }

  private _where: { path: string };
  private _pathChanged = new Signal<unknown, string>(this);
}

describe('followMove', () => {
  afterEach(() => jest.useRealTimers());

  it('keeps a collaborative tab the room moves, opening nothing', async () => {
    const panel = new FakePanel('Before.ipynb', true);
    const open = jest.fn(async () => 'another tab');
    const moving = followMove(panel, 'After.ipynb', { open, roomGrace: 5000 });
    panel.follow('elsewhere/Other.ipynb'); // another path: not the one asked for
    panel.follow('After.ipynb');
    await expect(moving).resolves.toBe(panel);
    expect(open).not.toHaveBeenCalled();
    expect(panel.closed).toBe(0);
  });

  it('opens the new path and closes the old tab when the room is late', async () => {
    jest.useFakeTimers();
    const panel = new FakePanel('Before.ipynb', true);
    const open = jest.fn(async () => 'the new tab');
    const moving = followMove(panel, 'After.ipynb', { open, roomGrace: 5000 });
    await jest.advanceTimersByTimeAsync(4999);
    expect(open).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    await expect(moving).resolves.toBe('the new tab');
    expect(open).toHaveBeenCalledWith('After.ipynb');
    expect(panel.closed).toBe(1);
  });

  it('opens the new path at once without a room', async () => {
    const panel = new FakePanel('Before.ipynb', false);
    const open = jest.fn(async () => 'the new tab');
    await expect(
      followMove(panel, 'After.ipynb', { open, roomGrace: 60_000 })
    ).resolves.toBe('the new tab');
    expect(open).toHaveBeenCalledWith('After.ipynb');
    expect(panel.closed).toBe(1);
  });

  it('keeps the old tab when it moved while the file was opened (the open revealed it)', async () => {
    const panel = new FakePanel('Before.ipynb', false);
    // docmanager:open reads the file, then looks for a tab on the path: the old one is
    // there by then, and it is the one revealed.
    const open = jest.fn(async (path: string) => {
      panel.follow(path);
      return panel;
    });
    await expect(followMove(panel, 'After.ipynb', { open })).resolves.toBe(
      panel
    );
    expect(panel.closed).toBe(0);
  });

  it('does nothing for a tab already at the new path', async () => {
    const panel = new FakePanel('After.ipynb', false);
    const open = jest.fn(async () => 'the new tab');
    await expect(followMove(panel, 'After.ipynb', { open })).resolves.toBe(
      panel
    );
    expect(open).not.toHaveBeenCalled();
  });

  it('does not close a tab the user closed meanwhile', async () => {
    const panel = new FakePanel('Before.ipynb', false);
    const open = jest.fn(async () => {
      panel.close(); // closed by the user while the file was being opened
      return 'the new tab';
    });
    await followMove(panel, 'After.ipynb', { open });
    expect(panel.closed).toBe(1);
  });
});
