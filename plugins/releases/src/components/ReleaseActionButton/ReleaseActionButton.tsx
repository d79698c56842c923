import { Button, ButtonProps, Tooltip } from '@material-ui/core';

/**
 * A release action's button: disabled with the reason as its tooltip when the permission policy
 * says no (a disabled button fires no events, so the tooltip sits on a wrapper); disabled without
 * a reason while the policy's answer is on its way.
 */
export const ReleaseActionButton = ({
  allowed,
  deciding = false,
  deniedReason,
  disabled,
  ...props
}: ButtonProps & { allowed: boolean; deciding?: boolean; deniedReason: string }) => {
  const button = <Button {...props} disabled={disabled || deciding || !allowed} />;
  if (allowed || deciding) return button;
  return (
    <Tooltip title={deniedReason}>
      <span data-testid="denied-action" aria-label={deniedReason}>
        {button}
      </span>
    </Tooltip>
  );
};
