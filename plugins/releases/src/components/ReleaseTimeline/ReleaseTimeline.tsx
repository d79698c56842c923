import { Table, TableBody, TableCell, TableRow, Typography } from '@material-ui/core';
import { TimelineEvent } from '@release-pilot/plugin-releases-common';

/** The release's append-only timeline, newest first: when, who, what and why. */
export const ReleaseTimeline = ({ events }: { events: TimelineEvent[] }) => (
  <Table size="small" aria-label="release timeline">
    <TableBody>
      {[...events].reverse().map(event => (
        <TableRow key={event.id}>
          <TableCell style={{ whiteSpace: 'nowrap' }}>
            <Typography variant="caption">{new Date(event.at).toLocaleTimeString()}</Typography>
          </TableCell>
          <TableCell style={{ whiteSpace: 'nowrap' }}>
            <Typography variant="caption">{event.actor}</Typography>
          </TableCell>
          <TableCell>{event.message}</TableCell>
        </TableRow>
      ))}
    </TableBody>
  </Table>
);
