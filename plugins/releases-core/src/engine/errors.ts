import { ConflictError } from '@backstage/errors';
import { ReleaseState } from '@release-pilot/plugin-releases-common';

/** Thrown when an event asks for a transition the state machine does not allow (HTTP 409). */
export class InvalidTransitionError extends ConflictError {
  constructor(from: ReleaseState, what: string) {
    super(`Cannot ${what} a release that is ${from.replace('_', ' ')}`);
  }
}
