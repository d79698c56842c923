import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { RELATION_PARENT_OF, stringifyEntityRef } from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { RELEASE_PILOT_TARGET_ANNOTATION } from '@release-pilot/plugin-releases-common';

/** A person's request, not a token's without a user (the router admits only these two). */
export const isUser = (credentials: BackstageCredentials) => (credentials.principal as { type: string }).type === 'user';

/** What Release Pilot reads from the catalog, and with whose credentials. */
export class CatalogReader {
  constructor(
    private readonly deps: {
      catalog: CatalogService;
      /** The plugin's own credentials: which entities claim what is checked across the whole catalog, whoever asks. */
      ownCredentials: () => Promise<BackstageCredentials>;
    },
  ) {}

  /** An entity, read with the caller's catalog credentials. */
  async entity(entityRef: string, credentials: BackstageCredentials) {
    return this.deps.catalog.getEntityByRef(entityRef, { credentials: await this.credentialsFor(credentials) });
  }

  /** The entities annotated with a target, and their annotations (read with the plugin's own credentials). */
  async entitiesOf(targetName: string): Promise<Array<{ entityRef: string; annotations: Record<string, string> }>> {
    const { items } = await this.deps.catalog.getEntities(
      { filter: { [`metadata.annotations.${RELEASE_PILOT_TARGET_ANNOTATION}`]: targetName }, fields: ['kind', 'metadata.namespace', 'metadata.name', 'metadata.annotations'] },
      { credentials: await this.deps.ownCredentials() },
    );
    return items.map(e => ({ entityRef: stringifyEntityRef(e), annotations: e.metadata.annotations ?? {} }));
  }

  /**
   * The credentials the catalog is read with: a person's own, so the catalog's read permissions
   * apply to them; for a token without a user, the plugin's, since Backstage does not delegate a
   * token restricted by `accessRestrictions` (what it may do here is this plugin's permissions).
   */
  async credentialsFor(credentials: BackstageCredentials): Promise<BackstageCredentials> {
    return isUser(credentials) ? credentials : this.deps.ownCredentials();
  }

  /** The group and all groups below it (through the catalog's parentOf relations). */
  async descendantGroups(group: string, credentials: BackstageCredentials): Promise<string[]> {
    const seen = new Set([group]);
    let todo = [group];
    let found = false;
    while (todo.length) {
      const { items } = await this.deps.catalog.getEntitiesByRefs({ entityRefs: todo, fields: ['kind', 'metadata', 'relations'] }, { credentials: await this.credentialsFor(credentials) });
      todo = [];
      for (const entity of items) {
        if (!entity) continue;
        found = true;
        for (const relation of entity.relations ?? []) {
          if (relation.type === RELATION_PARENT_OF && !seen.has(relation.targetRef)) {
            seen.add(relation.targetRef);
            todo.push(relation.targetRef);
          }
        }
      }
    }
    if (!found) throw new NotFoundError(`Group ${group} was not found in the catalog`);
    return [...seen];
  }
}
