/**
 * The Backstage signals channels Release Pilot's backend publishes on, so the portal updates by
 * push: an entity's channel gets every change of its releases (each tick's verdict at most once a
 * second), the releases channel every change of a release's state anywhere (the org page, the team
 * tab). A signal carries only what changed; the page reads the rest through the API, with the
 * reader's permissions.
 */
export const RELEASES_SIGNAL_CHANNEL = 'release-pilot:releases';

/** An entity's channel (its releases' tab). */
export function entitySignalChannel(entityRef: string): string {
  return `release-pilot:entity:${entityRef}`;
}

/**
 * What a signal says. It goes to every signed-in user (Backstage signals have no per-permission
 * recipients), so it names no release on the releases channel, and no entity on any channel: a page
 * that hears it reloads through the API, which checks the reader's permission.
 */
export interface ReleaseSignal {
  /** On an entity's channel only: which of its releases changed, and its revision. */
  releaseId?: string;
  revision?: number;
  state: string;
  /** When the backend saved the change (ISO), so a page can measure how late it heard of it. */
  savedAt: string;
  [key: string]: string | number | undefined;
}
