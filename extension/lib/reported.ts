/**
 * A rejection handler that reports the failure on the console and lets the flow go on with `fallback`:
 * for steps whose failure must not stop what the rep asked for, but must not vanish either.
 */
export function reported<T>(what: string, fallback: T): (error: unknown) => T {
  return (error: unknown) => {
    console.warn(`[crm-texting] ${what}`, error);
    return fallback;
  };
}
