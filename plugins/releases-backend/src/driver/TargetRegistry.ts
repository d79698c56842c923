import { InputError } from '@backstage/errors';
import { ReleaseTarget } from '@release-pilot/plugin-releases-node';

/** The targets that backend modules registered, by name. */
export class TargetRegistry {
  readonly #targets = new Map<string, ReleaseTarget>();

  add(target: ReleaseTarget): void {
    if (this.#targets.has(target.name)) {
      throw new Error(`Release target '${target.name}' is registered twice`);
    }
    this.#targets.set(target.name, target);
  }

  names(): string[] {
    return [...this.#targets.keys()].sort();
  }

  /** The target, or undefined when no module registered it. */
  find(name: string): ReleaseTarget | undefined {
    return this.#targets.get(name);
  }

  /** The target, or an InputError that lists the known ones. */
  get(name: string): ReleaseTarget {
    const target = this.find(name);
    if (!target) {
      throw new InputError(
        `Release target '${name}' is not registered; known targets: ${this.names().join(', ') || 'none'}`,
      );
    }
    return target;
  }
}
