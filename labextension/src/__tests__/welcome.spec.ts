import { ReactiveAPIError } from '../api';
import { IWelcome, welcomeToOpen } from '../welcome';

function answering(answer: IWelcome | Error) {
  return {
    welcome: jest.fn(async () => {
      if (answer instanceof Error) {
        throw answer;
      }
      return answer;
    })
  };
}

const made: IWelcome = {
  outcome: 'created',
  created: true,
  made_now: true,
  notebook_id: 'n1',
  path: 'alice/Welcome to reactive notebooks.ipynb'
};

describe('welcomeToOpen', () => {
  it('opens the welcome notebook the call made', async () => {
    const api = answering(made);
    await expect(welcomeToOpen(api)).resolves.toBe(made.path);
    expect(api.welcome).toHaveBeenCalledTimes(1);
  });

  it('opens nothing when it was made on an earlier visit', async () => {
    await expect(
      welcomeToOpen(answering({ ...made, made_now: false }))
    ).resolves.toBeNull();
  });

  it('opens nothing for a user who had notebooks, or with the feature off', async () => {
    for (const outcome of ['has_notebooks', 'name_taken', 'off']) {
      await expect(
        welcomeToOpen(answering({ outcome, created: false, made_now: false }))
      ).resolves.toBeNull();
    }
  });

  it('never fails the start: a server without the endpoint means nothing to open', async () => {
    const missing = new ReactiveAPIError('no such route', 404);
    await expect(welcomeToOpen(answering(missing))).resolves.toBeNull();
  });
});
