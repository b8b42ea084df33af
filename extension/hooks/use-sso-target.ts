import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { parseSsoTarget } from '../lib/auth/sso-login.ts';

/** The SSO form's field: the organisation's sign-in link or ID, its error, and its focus. */
export interface SsoTargetField {
  input: RefObject<HTMLInputElement | null>;
  target: string;
  edit(value: string): void;
  fieldError: string | null;
  /** The organisation the field names, or null after showing why it names none. */
  parse(): string | null;
  /** The form came back (after a link or second-factor step): the field takes the focus. */
  refocus(): void;
}

/**
 * Focus moves to the field when the form replaces the password form (`focus`: the button, or the
 * relay's answer), not when the page merely opens on it (the rep may be typing the relay URL above).
 */
export function useSsoTarget(relayUrl: string, initialTarget: string, focus: boolean): SsoTargetField {
  const [target, setTarget] = useState(initialTarget);
  const [fieldError, setFieldError] = useState<string | null>(null);
  /** Bumped when the form comes back after a link or second-factor step, so the field takes the focus. */
  const [focusTarget, setFocusTarget] = useState(0);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (focus || focusTarget > 0) input.current?.focus();
  }, [focus, focusTarget]);

  const parse = (): string | null => {
    const parsed = parseSsoTarget(target, relayUrl);
    if (!parsed.ok) {
      setFieldError(parsed.error);
      input.current?.focus();
      return null;
    }
    setFieldError(null);
    return parsed.orgId;
  };

  const edit = (value: string): void => {
    setTarget(value);
    setFieldError(null);
  };
  return { input, target, edit, fieldError, parse, refocus: () => setFocusTarget((n) => n + 1) };
}
