import { Table, TableColumn } from '@backstage/core-components';
import { Release } from '@release-pilot/plugin-releases-common';
import { ReleaseStateChip } from '../ReleaseStateChip';

/** "1m 12s" from two ISO times; "-" while the release runs. */
export function formatDuration(from: string, to?: string): string {
  if (!to) return '-';
  const seconds = Math.round((new Date(to).getTime() - new Date(from).getTime()) / 1000);
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m ${seconds % 60}s` : `${seconds}s`;
}

const columns: TableColumn<Release>[] = [
  { title: 'Version', field: 'version' },
  { title: 'Outcome', render: r => <ReleaseStateChip state={r.state} /> },
  { title: 'Started', render: r => new Date(r.createdAt).toLocaleString() },
  { title: 'Duration', render: r => formatDuration(r.createdAt, r.finishedAt) },
  { title: 'Started by', field: 'createdBy' },
  { title: 'Reason', render: r => r.reason ?? '' },
];

/** Past releases of the entity, newest first. */
export const ReleaseHistory = ({ releases }: { releases: Release[] }) => (
  <Table<Release>
    title="Release history"
    options={{ search: false, paging: releases.length > 10, pageSize: 10, padding: 'dense' }}
    columns={columns}
    data={releases}
  />
);
