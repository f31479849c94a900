/**
 * The user's first visit: JupyterLab tells the server once it has started
 * (`POST /reactive/api/v1/welcome`), which makes a new user's welcome notebook (once per
 * user: a parameter, a table and three charts that re-run when it changes). The call
 * that made it opens it; every later start finds it made and opens nothing.
 */
import { ReactiveAPI } from './api';

/** What the server decided on the user's first visit (`POST .../welcome`). */
export interface IWelcome {
  outcome: string;
  created: boolean;
  /** Whether this very call made it. */
  made_now: boolean;
  notebook_id?: string;
  path?: string;
}

/**
 * Report the visit; resolves with the welcome notebook's path when this call made it
 * (open it then), else null. Never rejects: a server without the endpoint (an older
 * one) or a refusal only means there is nothing to open.
 */
export async function welcomeToOpen(
  api: Pick<ReactiveAPI, 'welcome'>
): Promise<string | null> {
  try {
    const answer = await api.welcome();
    return answer.made_now && answer.path ? answer.path : null;
  } catch {
    return null;
  }
}
