/** The identity policy an org keeps under `orgs.settings.auth`; malformed values fall back to defaults. */
export interface OrgAuthSettings {
  /** Minutes without a request after which a session ends. */
  idleTimeoutMinutes: number;
  /** Hours after sign-in after which a session ends whatever its activity. */
  absoluteTimeoutHours: number;
  /** Users without a second factor must enrol one at sign-in before anything else. */
  requireSecondFactor: boolean;
  /**
   * The extension may not keep a session across browser restarts: reps sign in again in every browser
   * session (shared or unmanaged machines). Off by default, so a session survives a restart.
   */
  requireSignInEachBrowserSession: boolean;
}

export const AUTH_DEFAULTS: OrgAuthSettings = {
  idleTimeoutMinutes: 30,
  absoluteTimeoutHours: 12,
  requireSecondFactor: false,
  requireSignInEachBrowserSession: false,
};

/** The range each timeout may be set to (minutes idle: up to a day; hours absolute: up to 30 days). */
export const AUTH_TIMEOUT_RANGES = {
  idleTimeoutMinutes: { min: 1, max: 24 * 60 },
  absoluteTimeoutHours: { min: 1, max: 24 * 30 },
} as const;

const bounded = (value: unknown, min: number, max: number, fallback: number): number =>
  typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? value : fallback;

export function parseAuthSettings(settings: unknown): OrgAuthSettings {
  const root = typeof settings === 'object' && settings !== null ? (settings as Record<string, unknown>) : {};
  const raw = root.auth;
  const a = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    idleTimeoutMinutes: bounded(
      a.idleTimeoutMinutes,
      AUTH_TIMEOUT_RANGES.idleTimeoutMinutes.min,
      AUTH_TIMEOUT_RANGES.idleTimeoutMinutes.max,
      AUTH_DEFAULTS.idleTimeoutMinutes,
    ),
    absoluteTimeoutHours: bounded(
      a.absoluteTimeoutHours,
      AUTH_TIMEOUT_RANGES.absoluteTimeoutHours.min,
      AUTH_TIMEOUT_RANGES.absoluteTimeoutHours.max,
      AUTH_DEFAULTS.absoluteTimeoutHours,
    ),
    requireSecondFactor: a.requireSecondFactor === true,
    requireSignInEachBrowserSession: a.requireSignInEachBrowserSession === true,
  };
}
