import { fullTimestamp, readerCalendar, timeOfDay } from '../lib/thread-days.ts';

/**
 * When a message was written: the time of day on screen (the day separator above says which day),
 * the full date and time on hover and for screen readers.
 */
export function MessageTime({ iso }: { iso: string }) {
  const calendar = readerCalendar();
  const full = fullTimestamp(iso, calendar);
  return (
    <time dateTime={iso} title={full} data-testid="message-time">
      <span aria-hidden="true">{timeOfDay(iso, calendar)}</span>
      <span class="visually-hidden">{full}</span>
    </time>
  );
}
