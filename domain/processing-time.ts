/** The longest Max-Processing-Time accepted, in seconds (one day); longer jobs ask for 0, no limit. */
export const maxProcessingSecondsLimit = 86_400;

/**
 * The `Max-Processing-Time` header: whole seconds from 0 (no limit) to `maxProcessingSecondsLimit`.
 * An absent or blank header takes `defaultSeconds`; anything else that is not such a number is `null`.
 */
export function parseMaxProcessingTime(header: string | undefined, defaultSeconds: number): number | null {
  const value = header?.trim() ?? '';
  if (value === '') return defaultSeconds;
  if (!/^\d{1,6}$/.test(value)) return null;
  const seconds = Number(value);
  return seconds <= maxProcessingSecondsLimit ? seconds : null;
}
