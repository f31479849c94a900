import { kernelIndicator } from '../kernel-indicator';
import { KernelState } from '../types';

describe('kernelIndicator', () => {
  const states: KernelState[] = [
    'unknown',
    'starting',
    'idle',
    'busy',
    'restarting',
    'dead'
  ];

  it.each(states)(
    'shows the kernel state %s while connected, with a tooltip',
    state => {
      const shown = kernelIndicator(state, 'connected', true);
      expect(shown.state).toBe(state);
      expect(shown.label).not.toBe('');
      expect(shown.tooltip.length).toBeGreaterThan(20);
    }
  );

  it('labels each kernel state differently', () => {
    const labels = states.map(s => kernelIndicator(s, 'connected', true).label);
    expect(new Set(labels).size).toBe(states.length);
  });

  it('says connecting before the socket was ever up', () => {
    expect(kernelIndicator('unknown', 'connecting', false).state).toBe(
      'connecting'
    );
  });

  it.each(['disconnected', 'closed'] as const)(
    'says disconnected while the socket is %s, whatever the kernel did',
    status => {
      const shown = kernelIndicator('busy', status, true);
      expect(shown.state).toBe('disconnected');
      expect(shown.label).toBe('Disconnected');
    }
  );

  it('keeps saying disconnected while a reconnect attempt is under way', () => {
    expect(kernelIndicator('idle', 'connecting', true).state).toBe(
      'disconnected'
    );
  });

  it('shows the kernel again once reconnected', () => {
    expect(kernelIndicator('idle', 'connected', true).state).toBe('idle');
  });
});
