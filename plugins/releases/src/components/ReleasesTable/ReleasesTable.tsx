import { parseEntityRef } from '@backstage/catalog-model';
import { Link, Table, TableColumn } from '@backstage/core-components';
import { isActiveRelease, Release } from '@release-pilot/plugin-releases-common';
import { ReactNode, useMemo } from 'react';
import { formatDuration } from '../ReleaseHistory/ReleaseHistory';
import { ReleaseStateChip } from '../ReleaseStateChip';

function releasesTab(entityRef: string): string {
  const { kind, namespace, name } = parseEntityRef(entityRef);
  return `/catalog/${namespace}/${kind.toLocaleLowerCase('en-US')}/${name}/releases`;
}

/** "step 3 of 6 at 10%" for an active release. */
export function progressText(release: Release): string {
  if (release.state === 'watching') return `watching at ${release.canaryWeight}%`;
  if (release.state === 'pending') return 'about to start';
  return `step ${release.currentStep + 1} of ${release.plan.steps.length} at ${release.canaryWeight}%`;
}

/** Releases of several entities (team and org views): entity, version, state, progress, risk, owner. */
export const ReleasesTable = ({
  title,
  releases,
  actions,
  emptyText,
  paging = releases.length > 10,
}: {
  title: string;
  releases: Release[];
  /** Extra cells at the end of each row (e.g. a rollback button). */
  actions?: (release: Release) => ReactNode;
  emptyText?: string;
  /** The table's own paging, 10 rows a page (off where the caller pages through the backend). */
  paging?: boolean;
}) => {
  // The same columns while `actions` is the same: material-table then skips re-rendering its rows
  // when only the page around it changed (the org page's next page, a filter being chosen).
  const columns = useMemo(() => {
    const all: TableColumn<Release>[] = [
      {
        title: 'Service',
        render: r => <Link to={releasesTab(r.entityRef)}>{parseEntityRef(r.entityRef).name}</Link>,
      },
      { title: 'Version', field: 'version' },
      { title: 'State', render: r => <ReleaseStateChip state={r.state} /> },
      { title: 'Progress', render: r => (isActiveRelease(r.state) ? progressText(r) : formatDuration(r.createdAt, r.finishedAt)) },
      { title: 'Risk', render: r => (r.risk ? `${Math.round(100 * r.risk.probability)}%` : '-') },
      { title: 'Owner', render: r => (r.owner ? parseEntityRef(r.owner).name : '-') },
      { title: 'Started', render: r => new Date(r.createdAt).toLocaleString() },
      { title: 'Reason', render: r => r.reason ?? '' },
    ];
    if (actions) all.push({ title: '', render: r => actions(r) });
    return all;
  }, [actions]);
  const options = useMemo(() => ({ search: false, paging, pageSize: 10, padding: 'dense' as const }), [paging]);
  return (
    <Table<Release>
      title={title}
      options={options}
      columns={columns}
      data={releases}
      emptyContent={emptyText ? <div style={{ padding: 16 }}>{emptyText}</div> : undefined}
    />
  );
};
