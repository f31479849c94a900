/**
 * What the toolbar's kernel status shows for a kernel state and a connection status
 * (no DOM here: `toolbar.ts` draws it).
 */
import { ConnectionStatus } from './socket';
import { KernelState } from './types';

/** What the item shows: a kernel state, or the connection's when it is not up. */
export type IndicatorState = KernelState | 'connecting' | 'disconnected';

export interface IKernelIndicator {
  state: IndicatorState;
  label: string;
  tooltip: string;
}

const KERNEL: Record<KernelState, Omit<IKernelIndicator, 'state'>> = {
  unknown: {
    label: 'No kernel',
    tooltip:
      'No kernel runs for this notebook yet: one starts with the first run.'
  },
  starting: {
    label: 'Starting',
    tooltip: 'The kernel is starting; the cells run once it is up.'
  },
  idle: {
    label: 'Idle',
    tooltip: 'The kernel is idle: nothing is running.'
  },
  busy: {
    label: 'Busy',
    tooltip:
      'The kernel is running cells. Interrupt stops the running cell and the rest of the run.'
  },
  restarting: {
    label: 'Restarting',
    tooltip:
      'The kernel died and is restarting; its variables are gone, so the cells will run again.'
  },
  dead: {
    label: 'Dead',
    tooltip:
      'The kernel died and could not be restarted; the next run starts a new one.'
  }
};

/**
 * What to show for the kernel's `kernel` state while the socket is `connection`.
 * `everConnected`: the socket was connected before (a later "connecting" is a reconnect
 * attempt, shown as disconnected so the item does not flicker).
 */
export function kernelIndicator(
  kernel: KernelState,
  connection: ConnectionStatus,
  everConnected: boolean
): IKernelIndicator {
  if (connection === 'connected') {
    return { state: kernel, ...(KERNEL[kernel] ?? KERNEL.unknown) };
  }
  if (connection === 'connecting' && !everConnected) {
    return {
      state: 'connecting',
      label: 'Connecting',
      tooltip: 'Connecting to the server…'
    };
  }
  if (connection === 'closed') {
    return {
      state: 'disconnected',
      label: 'Disconnected',
      tooltip:
        'The connection to this notebook is closed (the notebook was deleted, or the tab closed).'
    };
  }
  return {
    state: 'disconnected',
    label: 'Disconnected',
    tooltip:
      'The connection to the server was lost; reconnecting. The kernel state shows again once connected.'
  };
}
