/** An error's message, for logs and timeline entries. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
