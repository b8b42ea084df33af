import { parseHTML } from 'linkedom';
import type { ComponentChild } from 'preact';

/**
 * A linkedom document for rendering Preact components in Node: enough DOM for their logic, no
 * browser needed. Importing this module installs it as the global document; import Preact after it.
 */
export const dom = parseHTML('<!doctype html><html><body></body></html>');
Object.assign(globalThis, {
  window: dom.window,
  document: dom.document,
  HTMLElement: dom.window.HTMLElement,
  Node: dom.window.Node,
  Event: dom.window.Event,
});

type Preact = typeof import('preact');

/** Mounts components into fresh roots and unmounts them all on `cleanup`. */
export function mounter(preact: () => Preact) {
  const roots: HTMLElement[] = [];
  return {
    mount(node: ComponentChild): HTMLElement {
      const root = dom.document.createElement('div') as unknown as HTMLElement;
      dom.document.body.appendChild(root);
      preact().render(node, root);
      roots.push(root);
      return root;
    },
    cleanup(): void {
      for (const root of roots.splice(0)) {
        preact().render(null, root);
        root.remove();
      }
    },
  };
}

/** Waits until `read` gives a truthy value, polling every 10 ms for up to 2 s. */
export async function until<T>(read: () => T | null | undefined | false, what: string): Promise<T> {
  const end = Date.now() + 2000;
  for (;;) {
    const value = read();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Types into an input or textarea as a person would: the value, then an `input` event. */
export function typeInto(el: Element | null, value: string): void {
  if (el === null) throw new Error('no such field');
  (el as HTMLInputElement).value = value;
  el.dispatchEvent(new dom.window.Event('input', { bubbles: true }));
}

export function click(el: Element | null): void {
  if (el === null) throw new Error('no such button');
  el.dispatchEvent(new dom.window.Event('click', { bubbles: true }));
}

export function submit(form: Element | null): void {
  if (form === null) throw new Error('no such form');
  form.dispatchEvent(new dom.window.Event('submit', { bubbles: true, cancelable: true }));
}
