import { AuthService, DiscoveryService, resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { InputError, NotFoundError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  RELEASE_PILOT_JUDGE_ANNOTATION,
  RELEASE_PILOT_PLAN_ANNOTATION,
  RELEASE_PILOT_TARGET_ANNOTATION,
} from '@release-pilot/plugin-releases-common';
import fs from 'node:fs/promises';
import { isMap, parseAllDocuments } from 'yaml';

/** What an entity's Release Pilot annotations may name, as the releases backend's `GET /targets` lists them. */
export interface ReleasesCatalog {
  targets: string[];
  judges: string[];
  plans: string[];
}

/** Reads the configured targets, judges and plans from the releases backend. */
export function releasesCatalogFromBackend(deps: { discovery: DiscoveryService; auth: AuthService }): () => Promise<ReleasesCatalog> {
  return async () => {
    const base = await deps.discovery.getBaseUrl('releases');
    const { token } = await deps.auth.getPluginRequestToken({
      onBehalfOf: await deps.auth.getOwnServiceCredentials(),
      targetPluginId: 'releases',
    });
    const response = await fetch(`${base}/targets`, { headers: { Authorization: `Bearer ${token}` } });
    if (!response.ok) {
      throw new Error(`Could not read the Release Pilot targets from ${base}/targets: HTTP ${response.status}`);
    }
    return (await response.json()) as ReleasesCatalog;
  };
}

function check(kind: string, value: string | undefined, known: string[]) {
  if (value !== undefined && !known.includes(value)) {
    throw new InputError(`Unknown Release Pilot ${kind} '${value}'; configured ${kind}s: ${known.join(', ') || 'none'}`);
  }
}

/**
 * `releases:enable`: adds `release-pilot.io/target` (and optionally `judge` and `plan`) to the
 * Component in a catalog-info.yaml of the workspace, after checking each name against what the
 * releases backend has configured. Comments and the other documents of the file are kept. It only
 * writes into the workspace, so it runs the same in a dry run.
 */
export function createEnableReleasesAction(options: { catalog: () => Promise<ReleasesCatalog> }) {
  return createTemplateAction({
    id: 'releases:enable',
    description: "Enables Release Pilot for a component: adds the release-pilot.io annotations to its catalog-info.yaml in the workspace",
    supportsDryRun: true,
    examples: [
      {
        description: 'Enable canary releases through the simulator target',
        example: "steps:\n  - id: releases\n    action: releases:enable\n    input:\n      target: simulator\n      plan: careful\n",
      },
    ],
    schema: {
      input: {
        target: z => z.string().min(1).describe('The release target (traffic router + metrics) under releases.targets'),
        judge: z => z.string().optional().describe('A named judge under releases.judges (empty: the target\'s)'),
        analysis: z => z.string().optional().describe('Deprecated: the old name of judge'),
        plan: z => z.string().optional().describe('A named plan under releases.plans (empty: the default)'),
        filePath: z => z.string().default('catalog-info.yaml').describe('The catalog file, relative to the workspace'),
        component: z => z.string().optional().describe('The component to annotate when the file holds several'),
      },
      output: {
        entityName: z => z.string().describe('The annotated component'),
        annotations: z => z.record(z.string(), z.string()).describe('The annotations that were set'),
      },
    },
    async handler(ctx) {
      // Template expressions of empty parameters arrive as empty strings: those mean "not set".
      const { target } = ctx.input;
      const filePath = ctx.input.filePath || 'catalog-info.yaml';
      const [judge, plan, component] = [ctx.input.judge || ctx.input.analysis, ctx.input.plan, ctx.input.component].map(v => v || undefined);
      const known = await options.catalog();
      check('target', target, known.targets);
      check('judge', judge, known.judges);
      check('plan', plan, known.plans);

      const file = resolveSafeChildPath(ctx.workspacePath, filePath);
      const text = await fs.readFile(file, 'utf8').catch(() => {
        throw new NotFoundError(`No ${filePath} in the workspace; fetch or template the component first`);
      });
      const documents = parseAllDocuments(text);
      for (const doc of documents) {
        if ('errors' in doc && doc.errors.length) {
          throw new InputError(`${filePath} is not valid YAML: ${doc.errors[0].message}`);
        }
      }
      const components = documents.filter(doc => {
        const kind = doc.get('kind');
        const name = doc.getIn(['metadata', 'name']);
        return kind === 'Component' && (component === undefined || name === component);
      });
      if (components.length !== 1) {
        const what = component ? `a Component named '${component}'` : 'exactly one Component';
        throw new InputError(`${filePath} must hold ${what}; found ${components.length}${component ? '' : ' (name one with the component input)'}`);
      }
      const [doc] = components;
      if (!isMap(doc.get('metadata'))) throw new InputError(`${filePath}: the Component has no metadata`);
      const annotations: Record<string, string> = { [RELEASE_PILOT_TARGET_ANNOTATION]: target };
      if (judge) annotations[RELEASE_PILOT_JUDGE_ANNOTATION] = judge;
      if (plan) annotations[RELEASE_PILOT_PLAN_ANNOTATION] = plan;
      if (!isMap(doc.getIn(['metadata', 'annotations']))) doc.setIn(['metadata', 'annotations'], doc.createNode({}));
      for (const [key, value] of Object.entries(annotations)) doc.setIn(['metadata', 'annotations', key], value);

      // Each document keeps its own `---` marker.
      await fs.writeFile(file, documents.map(d => d.toString()).join(''), 'utf8');
      const entityName = String(doc.getIn(['metadata', 'name']));
      ctx.logger.info(`${ctx.isDryRun ? '[dry run] ' : ''}Enabled Release Pilot for ${entityName} in ${filePath}: ${Object.entries(annotations).map(([k, v]) => `${k}=${v}`).join(', ')}`);
      ctx.output('entityName', entityName);
      ctx.output('annotations', annotations);
    },
  });
}
