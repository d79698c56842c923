import { Box, Chip, Typography } from '@material-ui/core';
import { RiskAssessment } from '@release-pilot/plugin-releases-common';

const percent = (p: number) => `${Math.round(100 * p)}%`;

/** The risk predicted when the release was requested: how much, why, and the plan it chose. */
export const ReleaseRisk = ({ risk }: { risk: RiskAssessment }) => {
  const high = risk.probability > risk.threshold;
  return (
    <Box data-testid="release-risk">
      <Box display="flex" alignItems="center" style={{ gap: 8 }}>
        <Typography variant="subtitle2">Predicted risk</Typography>
        <Chip
          size="small"
          label={`${percent(risk.probability)}${high ? ` (above the ${percent(risk.threshold)} limit)` : ''}`}
          style={{ background: high ? '#c62828' : undefined, color: high ? '#fff' : undefined }}
        />
        <Typography variant="caption" color="textSecondary">
          {risk.model === 'forest'
            ? `random forest trained ${risk.modelTrainedAt ? new Date(risk.modelTrainedAt).toLocaleDateString() : ''} on this portal's release history`
            : 'transparent prior (not enough release history yet to train the model)'}
        </Typography>
      </Box>
      {risk.reasons.length > 0 && (
        <ul style={{ margin: '4px 0' }}>
          {risk.reasons.map(reason => (
            <li key={reason.feature}>
              <Typography variant="body2">{reason.text}</Typography>
            </li>
          ))}
        </ul>
      )}
      {risk.unknown && risk.unknown.length > 0 && (
        <Typography variant="body2" data-testid="risk-unknown">
          Unknown: {risk.unknown.join('; ')}. An unknown change size never counts as low risk.
        </Typography>
      )}
      {risk.plan && (
        <Typography variant="body2" data-testid="risk-plan">
          Plan '{risk.plan.name}': {risk.plan.reason}
        </Typography>
      )}
      {risk.planOverride && (
        <Typography variant="body2" data-testid="risk-plan-override">
          Chosen instead of the risk's plan '{risk.planOverride.shaped}', less careful in {risk.planOverride.lessCareful.join('; ')}
        </Typography>
      )}
      {risk.override && (
        <Typography variant="body2" data-testid="risk-override">
          Risk gate overridden by {risk.override.actor}: {risk.override.reason}
        </Typography>
      )}
    </Box>
  );
};
