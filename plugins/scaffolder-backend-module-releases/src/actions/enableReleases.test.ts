import { createMockDirectory } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { createEnableReleasesAction } from './enableReleases';

const catalog = async () => ({ targets: ['simulator', 'vm'], judges: ['strict'], plans: ['careful', 'default'] });

const COMPONENT = `# The checkout service
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  annotations:
    backstage.io/techdocs-ref: dir:. # docs next to the code
spec:
  type: service
  owner: team-checkout
  lifecycle: production
`;

describe('releases:enable', () => {
  const workspace = createMockDirectory();
  const action = createEnableReleasesAction({ catalog });
  const run = async (input: Record<string, unknown>, isDryRun = false) => {
    const context = createMockActionContext({ input: input as any, workspacePath: workspace.path, isDryRun } as any);
    await action.handler(context as any);
    return context;
  };
  const read = (file = 'catalog-info.yaml') => fs.readFileSync(path.join(workspace.path, file), 'utf8');

  beforeEach(() => workspace.clear());

  it('adds the annotations, keeps the others and the comments, and outputs what it set', async () => {
    workspace.setContent({ 'catalog-info.yaml': COMPONENT });
    const context = await run({ target: 'vm', plan: 'careful', judge: 'strict', filePath: 'catalog-info.yaml' }, true);
    const text = read();
    expect(text).toContain('# The checkout service');
    expect(text).toContain('backstage.io/techdocs-ref: dir:. # docs next to the code');
    const [doc] = parseAllDocuments(text).map(d => d.toJS());
    expect(doc.metadata.annotations).toEqual({
      'backstage.io/techdocs-ref': 'dir:.',
      'release-pilot.io/target': 'vm',
      'release-pilot.io/plan': 'careful',
      'release-pilot.io/judge': 'strict',
    });
    expect(context.output).toHaveBeenCalledWith('entityName', 'checkout');
    expect(context.output).toHaveBeenCalledWith('annotations', {
      'release-pilot.io/target': 'vm',
      'release-pilot.io/plan': 'careful',
      'release-pilot.io/judge': 'strict',
    });
  });

  it("still takes the deprecated input 'analysis', and writes the judge annotation", async () => {
    workspace.setContent({ 'catalog-info.yaml': COMPONENT });
    await run({ target: 'vm', analysis: 'strict', filePath: 'catalog-info.yaml' });
    const [doc] = parseAllDocuments(read()).map(d => d.toJS());
    expect(doc.metadata.annotations['release-pilot.io/judge']).toBe('strict');
    expect(doc.metadata.annotations['release-pilot.io/analysis']).toBeUndefined();
  });

  it('annotates the named component of a file with several documents and leaves the rest as it was', async () => {
    workspace.setContent({
      'catalog-info.yaml': `---\napiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: shop\nspec:\n  owner: team-checkout\n---\n${COMPONENT}---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\nspec:\n  type: service\n  owner: team-checkout\n  lifecycle: production\n`,
    });
    await run({ target: 'simulator', component: 'payments', filePath: 'catalog-info.yaml' });
    const docs = parseAllDocuments(read()).map(d => d.toJS());
    expect(docs.map(d => d.metadata.name)).toEqual(['shop', 'checkout', 'payments']);
    expect(docs[2].metadata.annotations).toEqual({ 'release-pilot.io/target': 'simulator' });
    expect(docs[1].metadata.annotations).toEqual({ 'backstage.io/techdocs-ref': 'dir:.' });
  });

  it('refuses unknown names with the configured ones, and a file without exactly one component; writes nothing', async () => {
    workspace.setContent({ 'catalog-info.yaml': COMPONENT });
    await expect(run({ target: 'kubernetes', filePath: 'catalog-info.yaml' })).rejects.toThrow(
      "Unknown Release Pilot target 'kubernetes'; configured targets: simulator, vm",
    );
    await expect(run({ target: 'vm', plan: 'yolo', filePath: 'catalog-info.yaml' })).rejects.toThrow(/configured plans: careful, default/);
    await expect(run({ target: 'vm', component: 'nope', filePath: 'catalog-info.yaml' })).rejects.toThrow(
      "catalog-info.yaml must hold a Component named 'nope'; found 0",
    );
    await expect(run({ target: 'vm', filePath: 'missing.yaml' })).rejects.toThrow(/No missing\.yaml in the workspace/);
    await expect(run({ target: 'vm', filePath: '../outside.yaml' })).rejects.toThrow(/outside/i);
    expect(read()).toBe(COMPONENT);
  });
});
