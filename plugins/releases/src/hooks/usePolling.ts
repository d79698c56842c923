import { DependencyList } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import useInterval from 'react-use/esm/useInterval';

/** How often the Releases tab refreshes while it is open. */
export const POLL_INTERVAL_MS = 1500;

/** Loads with `fn` and reloads every `intervalMs`; keeps showing the last value while reloading. */
export function usePolling<T>(
  fn: () => Promise<T>,
  deps: DependencyList,
  intervalMs: number | null = POLL_INTERVAL_MS,
) {
  const state = useAsyncRetry(fn, deps);
  useInterval(state.retry, intervalMs);
  return state;
}
