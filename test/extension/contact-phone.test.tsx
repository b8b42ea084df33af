// @vitest-environment node
import type { ComponentChild } from 'preact';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RelayError } from '../../extension/lib/relay/relay-client.ts';
// Preact renders into a linkedom document (installed by this import): no browser needed.
import { dom } from './preact-dom.ts';

type Preact = typeof import('preact');
let preact: Preact;
let ContactPhone: typeof import('../../extension/components/ContactPhone.tsx').ContactPhone;

beforeAll(async () => {
  preact = await import('preact');
  ({ ContactPhone } = await import('../../extension/components/ContactPhone.tsx'));
});

let root: HTMLElement | null = null;
afterEach(() => {
  if (root) preact.render(null, root);
  root?.remove();
  root = null;
});

function mount(node: ComponentChild): HTMLElement {
  root = document.createElement('div');
  document.body.appendChild(root);
  preact.render(node, root);
  return root;
}

async function until<T>(read: () => T | null | undefined | false, what: string): Promise<T> {
  const end = Date.now() + 2000;
  for (;;) {
    const value = read();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const FULL = '+14155550132';
const MASKED = '+1•••••••0132';
const phoneText = (r: Element) => r.querySelector('[data-testid=contact-phone]')?.textContent ?? '';
const button = (r: Element) => r.querySelector('[data-testid=reveal-phone]') as HTMLButtonElement | null;

describe('ContactPhone', () => {
  it('shows a number the role may see in full, with no reveal control', () => {
    const reveal = vi.fn(async () => FULL);
    const r = mount(<ContactPhone phone={FULL} masked={false} canReveal={true} reveal={reveal} />);
    expect(phoneText(r)).toBe(`Phone: ${FULL}`);
    expect(button(r)).toBeNull();
  });

  it('offers no reveal to a role with neither pii.view nor pii.reveal', () => {
    const r = mount(<ContactPhone phone={MASKED} masked={true} canReveal={false} reveal={vi.fn()} />);
    expect(phoneText(r)).toBe(`Phone, masked: ${MASKED}`);
    expect(button(r)).toBeNull();
  });

  it('reveals the number on "Show number" (the focus moving to it is checked in Chromium)', async () => {
    const reveal = vi.fn(async (_signal: AbortSignal) => FULL);
    const r = mount(<ContactPhone phone={MASKED} masked={true} canReveal={true} reveal={reveal} />);
    const show = button(r);
    expect(show?.tagName).toBe('BUTTON');
    expect(show?.textContent).toBe('Show number');
    show?.dispatchEvent(new dom.window.Event('click', { bubbles: true }));
    await until(() => phoneText(r).includes(FULL), 'the revealed number');
    expect(phoneText(r)).toBe(`Phone: ${FULL}`);
    expect(reveal).toHaveBeenCalledTimes(1);
    expect(button(r)).toBeNull();
  });

  it('keeps the number masked and says why when the relay refuses the reveal', async () => {
    const refusal = new RelayError(403, {
      code: 'FORBIDDEN',
      message: 'Your role (desk) lacks the "pii.reveal" permission.',
      details: { permission: 'pii.reveal' },
    });
    const r = mount(
      <ContactPhone
        phone={MASKED}
        masked={true}
        canReveal={true}
        reveal={async () => Promise.reject(refusal)}
      />,
    );
    button(r)?.dispatchEvent(new dom.window.Event('click', { bubbles: true }));
    const alert = await until(() => r.querySelector('[role=alert]'), 'the refusal');
    expect(alert.getAttribute('data-error-code')).toBe('FORBIDDEN');
    expect(phoneText(r)).toBe(`Phone, masked: ${MASKED}`);
    expect(button(r)?.disabled).toBe(false);
  });
});
