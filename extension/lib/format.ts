/** Masks every digit of a phone number but the last four, so shoulder-surfing and screenshots reveal little. */
export function maskPhone(e164: string): string {
  const digits = e164.replace(/\D/g, '').length;
  let seen = 0;
  return e164.replace(/\d/g, (d) => {
    seen += 1;
    return seen > digits - 4 ? d : '•';
  });
}

/** A short local timestamp: time today, else date and time. */
export function formatTimestamp(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const sameDay = date.toDateString() === now.toDateString();
  return new Intl.DateTimeFormat(undefined, {
    ...(sameDay ? {} : { month: 'short', day: 'numeric' }),
    hour: 'numeric',
    minute: '2-digit',
  }).format(date);
}

/** The current time in the contact's time zone, or null when the zone is unknown or invalid. */
export function contactLocalTime(timeZone: string | null, now: Date = new Date()): string | null {
  if (!timeZone) return null;
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone, hour: 'numeric', minute: '2-digit' }).format(now);
  } catch {
    return null;
  }
}
