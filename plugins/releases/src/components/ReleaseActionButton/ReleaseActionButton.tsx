import { Button, ButtonProps, Tooltip } from '@material-ui/core';

/**
 * A release action's button: disabled with the reason as its tooltip when the permission policy
 * says no (a disabled button fires no events, so the tooltip sits on a wrapper).
 */
export const ReleaseActionButton = ({
  allowed,
  deniedReason,
  disabled,
  ...props
}: ButtonProps & { allowed: boolean; deniedReason: string }) => {
  const button = <Button {...props} disabled={disabled || !allowed} />;
  if (allowed) return button;
  return (
    <Tooltip title={deniedReason}>
      <span data-testid="denied-action" aria-label={deniedReason}>
        {button}
      </span>
    </Tooltip>
  );
};
