/**
 * First-contact notice (#4): the first text of a conversation, or the first after a long
 * silence, must say who is texting and how to opt out (CTIA, CASL sender identification, FCC
 * "clear and conspicuous" opt-out). Pure: returns the exact text that will be sent and its
 * segment count, so the composer can show what the recipient will see and what it costs.
 */
import { countSegments, type SegmentInfo } from './segments.ts';

/** Days without any message after which the next outbound text identifies the sender again. */
export const DEFAULT_SILENCE_DAYS = 30;

export const OPT_OUT_INSTRUCTION = 'Reply STOP to opt out.';

export interface FirstContactInput {
  text: string;
  /** The organisation's name as recipients know it (brand or program name). */
  orgName: string;
  /** Latest message in either direction, or null when the conversation has none yet. */
  lastMessageAt: Date | null;
  now: Date;
  silenceDays?: number;
  /** `text` already counted (the send path counts it once); reused when no notice is added. */
  counted?: SegmentInfo;
}

export interface FirstContactResult {
  /** The exact text to send. */
  text: string;
  /** Whether anything was added. */
  added: { identification: boolean; optOut: boolean };
  segments: SegmentInfo;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether this text opens the conversation or follows a silence of `silenceDays` or more. */
export function needsFirstContactNotice(
  lastMessageAt: Date | null,
  now: Date,
  silenceDays = DEFAULT_SILENCE_DAYS,
): boolean {
  if (lastMessageAt === null) return true;
  return now.getTime() - lastMessageAt.getTime() >= silenceDays * 86_400_000;
}

/**
 * Adds "<Org>: " in front unless the text already names the organisation, and
 * " Reply STOP to opt out." at the end unless it already tells how to stop; other texts are
 * returned unchanged.
 */
export function applyFirstContactNotice(input: FirstContactInput): FirstContactResult {
  const body = input.text.trim();
  const orgName = input.orgName.trim();
  if (!needsFirstContactNotice(input.lastMessageAt, input.now, input.silenceDays)) {
    return {
      text: input.text,
      added: { identification: false, optOut: false },
      segments: input.counted ?? countSegments(input.text),
    };
  }
  const names =
    orgName !== '' &&
    new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(orgName)}($|[^\\p{L}\\p{N}])`, 'iu').test(body);
  const identification = orgName !== '' && !names;
  const optOut = !/\b(reply|text|send)\s+["“']?stop["”']?\b/i.test(body);
  let text = identification ? `${orgName}: ${body}` : body;
  if (optOut) text = `${text}${/[.!?]$/.test(text) || text === '' ? '' : '.'} ${OPT_OUT_INSTRUCTION}`.trim();
  return { text, added: { identification, optOut }, segments: countSegments(text) };
}
