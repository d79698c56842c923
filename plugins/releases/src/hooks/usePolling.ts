import { DependencyList, useEffect } from 'react';
import { useSignal } from '@backstage/plugin-signals-react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import useInterval from 'react-use/esm/useInterval';

/** How often a page refreshes without Backstage signals. */
export const POLL_INTERVAL_MS = 1500;

/** With signals, a page still refreshes this often, in case a signal was lost (a reconnect). */
export const SIGNALS_SAFETY_POLL_MS = 30_000;

/**
 * Loads with `fn` and reloads whenever the backend publishes on `channel` (Backstage signals), or,
 * where the app has no signals plugin, every `intervalMs`; keeps showing the last value while
 * reloading. Without a channel it only polls.
 */
export function usePolling<T>(
  fn: () => Promise<T>,
  deps: DependencyList,
  intervalMs: number | null = POLL_INTERVAL_MS,
  channel?: string,
) {
  const state = useAsyncRetry(fn, deps);
  const { lastSignal, isSignalsAvailable } = useSignal(channel ?? 'release-pilot:none');
  const pushed = channel !== undefined && isSignalsAvailable;
  const { retry } = state;
  useEffect(() => {
    if (pushed && lastSignal) retry();
    // Each new signal object is a new change; `retry` changes with every load.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lastSignal]);
  useInterval(retry, pushed ? SIGNALS_SAFETY_POLL_MS : intervalMs);
  return state;
}
