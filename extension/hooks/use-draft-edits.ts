import type { RefObject } from 'preact';
import { useRef } from 'preact/hooks';
import type { MessageTemplate } from '../lib/relay-types.ts';
import { applyTemplate, type MergeField } from '../lib/templates.ts';
import type { ComposerDraft } from './use-composer-draft.ts';
import type { DraftCheck } from './use-draft-check.ts';

/** Edits the composer makes to the draft for the rep, keeping the focus in the text box. */
export interface DraftEdits {
  textarea: RefObject<HTMLTextAreaElement | null>;
  /** Inserts a template, its merge fields filled, at the cursor (or as the whole text when empty). */
  insertTemplate(template: MessageTemplate): void;
  /** Removes the spans the relay flagged as sensitive. */
  removeFlagged(): void;
}

export function useDraftEdits(
  draft: ComposerDraft,
  check: DraftCheck,
  mergeValues: Record<MergeField, string>,
): DraftEdits {
  const { body, setBody } = draft;
  const textarea = useRef<HTMLTextAreaElement>(null);

  const insertTemplate = (template: MessageTemplate): void => {
    const { text } = applyTemplate(template.body, mergeValues);
    const el = textarea.current;
    let next: string;
    if (el && body.length > 0) {
      const start = el.selectionStart ?? body.length;
      const end = el.selectionEnd ?? body.length;
      next = body.slice(0, start) + text + body.slice(end);
    } else next = text;
    setBody(next);
    el?.focus();
  };

  const removeFlagged = (): void => {
    let next = body;
    for (const f of [...check.findings].sort((a, b) => b.start - a.start)) {
      next = next.slice(0, f.start) + next.slice(f.end);
    }
    setBody(next.replace(/ {2,}/g, ' '));
    textarea.current?.focus();
  };
  return { textarea, insertTemplate, removeFlagged };
}
