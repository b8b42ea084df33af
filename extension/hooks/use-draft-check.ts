import { useMemo, useState } from 'preact/hooks';
import { countSegments, type SegmentInfo } from '../../server/compliance/segments.ts';
import type { ContactRef } from '../hosts/types.ts';
import { formatInZone } from '../lib/format.ts';
import type { RelayClient, SendMessageInput } from '../lib/relay/relay-client.ts';
import { type Preflight, type SensitiveFinding, sensitiveFindings } from '../lib/relay-types.ts';
import { usePreflight } from './use-preflight.ts';

const UNFILLED = /\{\{\s*[A-Za-z]+\s*\}\}/g;

/** Where the draft is going, as the composer knows it. */
export interface DraftAddress {
  contactRef: ContactRef;
  /** The contact's number, or null when the rep only sees it masked. */
  to: string | null;
  from: string | null;
  blockedReason: string | null;
}

/** What the composer knows about the draft: its segments, unfilled fields, and the relay's live verdict. */
export interface DraftCheck {
  info: SegmentInfo;
  empty: boolean;
  /** Merge fields the CRM had no value for (`{{firstName}}`), still in the text. */
  unfilled: string[];
  /** The relay's verdict on exactly this draft, or null while it has none. */
  current: Preflight | null;
  /** The verdict when the only obstacle is quiet hours and the text can be scheduled. */
  quiet: Preflight | null;
  hardRefusals: Preflight['refusals'];
  findings: SensitiveFinding[];
  zone: string | null;
  scheduleLabel: string | null;
  /** The last check failed; the relay checks again at send. */
  checkError: unknown;
  /** Nothing can be sent as the draft stands. */
  blocked: boolean;
  /** Who the text goes to: the number, or the CRM record when the rep sees the number masked. */
  recipient: string;
  /** The send request for `text`, or null without a sender number. */
  inputFor(text: string): SendMessageInput | null;
  /** Asks the relay again for the same draft (it refused a send: the clock moved on). */
  recheck(): void;
}

export function useDraftCheck(client: RelayClient, body: string, address: DraftAddress): DraftCheck {
  const { contactRef, to, from, blockedReason } = address;
  const info = useMemo(() => countSegments(body), [body]);
  const empty = body.trim().length === 0;
  const unfilled = useMemo(() => [...new Set(body.match(UNFILLED) ?? [])], [body]);

  const contact = { crm: contactRef.crm, objectType: contactRef.objectType, id: contactRef.id };
  const inputFor = (text: string): SendMessageInput | null =>
    from ? { from, ...(to ? { to } : {}), body: text, contact } : null;
  const checkInput = !empty && blockedReason === null && info.withinLimit ? inputFor(body) : null;
  // Bumped after the relay refuses a send, so the verdict shown is asked again (the clock moved on).
  const [generation, setGeneration] = useState(0);
  const check = usePreflight(client, checkInput, 300, generation);
  const current: Preflight | null =
    check.result && checkInput && check.checked === JSON.stringify(checkInput) ? check.result : null;
  const quiet = current?.schedulable && current.nextAllowedAt ? current : null;
  const hardRefusals = (current?.refusals ?? []).filter((r) => r.code !== 'QUIET_HOURS');
  const zone = current?.recipientLocalTime?.zone ?? null;
  const blocked =
    empty ||
    !from ||
    blockedReason !== null ||
    !info.withinLimit ||
    unfilled.length > 0 ||
    (current !== null && !current.allowed && !quiet);

  return {
    info,
    empty,
    unfilled,
    current,
    quiet,
    hardRefusals,
    findings: current ? sensitiveFindings(current, body.length) : [],
    zone,
    scheduleLabel:
      quiet?.nextAllowedAt && zone
        ? `Schedule for ${formatInZone(quiet.nextAllowedAt, zone)} their time`
        : null,
    checkError: check.error,
    blocked,
    recipient: to ? to : `${contact.crm}/${contact.objectType}/${contact.id}`,
    inputFor,
    recheck: () => setGeneration((n) => n + 1),
  };
}
