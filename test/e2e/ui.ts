import type { ElementHandle, Frame, JSHandle, Page } from 'puppeteer-core';

/**
 * What a scenario looks for, the way a person would name it: a test id, a form control's label, a
 * button's name, or a CSS selector; `hasText` narrows any of them to elements containing that text.
 * Label and name match whole (after trimming) when `exact`, else as a case-insensitive substring.
 */
export interface Target {
  testId?: string;
  label?: string;
  button?: string;
  css?: string;
  /** An element whose whole text is this (like a status word). */
  text?: string;
  hasText?: string;
  exact?: boolean;
}

/** The default wait for something the UI does at once (a render, a preflight, a live event). */
const DEFAULT_TIMEOUT = 10_000;

/**
 * The first element matching `target` in the document, or null. Runs in the page (serialised by the
 * driver), so it must not use anything from the enclosing module.
 */
function findIn(target: Target): Element | null {
  const norm = (s: string | null | undefined): string => (s ?? '').replace(/\s+/g, ' ').trim();
  const matches = (actual: string, wanted: string): boolean =>
    target.exact ? norm(actual) === wanted : norm(actual).toLowerCase().includes(wanted.toLowerCase());
  const labelOf = (el: Element): string => {
    const aria = el.getAttribute('aria-label');
    if (aria) return aria;
    const by = el.getAttribute('aria-labelledby');
    if (by)
      return by
        .split(/\s+/)
        .map((id) => document.getElementById(id)?.textContent ?? '')
        .join(' ');
    const labels = (el as HTMLInputElement).labels;
    if (labels && labels.length > 0) {
      const label = labels[0] as HTMLLabelElement;
      // A wrapping label's own text, without the text of the control inside it.
      const clone = label.cloneNode(true) as HTMLElement;
      for (const inner of clone.querySelectorAll('input, textarea, select, button')) inner.remove();
      return clone.textContent ?? '';
    }
    return '';
  };
  let found: Element[];
  if (target.testId !== undefined) found = [...document.querySelectorAll(`[data-testid="${target.testId}"]`)];
  else if (target.label !== undefined) {
    const wanted = target.label;
    found = [...document.querySelectorAll('input, textarea, select, button')].filter((el) =>
      matches(labelOf(el), wanted),
    );
  } else if (target.button !== undefined) {
    const wanted = target.button;
    found = [
      ...document.querySelectorAll('button, [role=button], input[type=submit], input[type=button]'),
    ].filter((el) =>
      matches(el.getAttribute('aria-label') ?? el.textContent ?? (el as HTMLInputElement).value, wanted),
    );
  } else if (target.text !== undefined) {
    const wanted = target.text;
    found = [...document.querySelectorAll(target.css ?? 'body *')].filter(
      (el) => norm(el.textContent) === wanted,
    );
  } else found = [...document.querySelectorAll(target.css ?? '*')];
  if (target.hasText !== undefined) {
    const text = target.hasText;
    found = found.filter((el) => (el.textContent ?? '').includes(text));
  }
  return found[0] ?? null;
}

function describe(target: Target): string {
  return JSON.stringify(target);
}

/**
 * Queries and actions on one document (a page, or the panel's frame inside it) that work alike in
 * Chromium and Firefox. Every lookup waits for its element, as a person waits for a page to render.
 */
export class Ui {
  constructor(readonly scope: Page | Frame) {}

  /** A handle on the element if it exists now, else on null. */
  private async peek(target: Target): Promise<JSHandle<Element | null>> {
    return (await this.scope.evaluateHandle(findIn, target)) as JSHandle<Element | null>;
  }

  /** The element, once it exists. */
  async find(target: Target, timeout = DEFAULT_TIMEOUT): Promise<ElementHandle<Element>> {
    try {
      const handle = await this.scope.waitForFunction(findIn, { timeout, polling: 100 }, target);
      return handle as ElementHandle<Element>;
    } catch (error) {
      throw new Error(`no element ${describe(target)} within ${timeout} ms`, { cause: error });
    }
  }

  /** Waits until the element exists (and returns nothing). */
  async waitFor(target: Target, timeout = DEFAULT_TIMEOUT): Promise<void> {
    (await this.find(target, timeout)).dispose();
  }

  /** Whether the element exists now (no waiting). */
  async exists(target: Target): Promise<boolean> {
    const handle = await this.peek(target);
    try {
      return await handle.evaluate((el) => el !== null);
    } finally {
      await handle.dispose();
    }
  }

  /** How many elements match a CSS selector now, optionally those containing `hasText`. */
  count(css: string, hasText?: string): Promise<number> {
    return this.scope.evaluate(
      (selector, text) =>
        [...document.querySelectorAll(selector)].filter(
          (el) => text === null || (el.textContent ?? '').includes(text),
        ).length,
      css,
      hasText ?? null,
    );
  }

  /** The element's text now, or null while it does not exist (for polling). */
  async textNow(target: Target): Promise<string | null> {
    const handle = await this.peek(target);
    try {
      return await handle.evaluate((el) => (el === null ? null : (el.textContent ?? '')));
    } finally {
      await handle.dispose();
    }
  }

  /** The element's rendered text now, or null while it does not exist. */
  async innerTextNow(target: Target): Promise<string | null> {
    const handle = await this.peek(target);
    try {
      return await handle.evaluate((el) => (el === null ? null : (el as HTMLElement).innerText));
    } finally {
      await handle.dispose();
    }
  }

  /** An attribute of the element now, or null while it (or the attribute) does not exist. */
  async attributeNow(target: Target, name: string): Promise<string | null> {
    const handle = await this.peek(target);
    try {
      return await handle.evaluate((el, attr) => (el === null ? null : el.getAttribute(attr)), name);
    } finally {
      await handle.dispose();
    }
  }

  async text(target: Target): Promise<string> {
    const handle = await this.find(target);
    return handle.evaluate((el) => el.textContent ?? '');
  }

  /** The text as rendered (CSS-hidden parts left out), like innerText. */
  async innerText(target: Target): Promise<string> {
    const handle = await this.find(target);
    return handle.evaluate((el) => (el as HTMLElement).innerText);
  }

  async attribute(target: Target, name: string): Promise<string | null> {
    const handle = await this.find(target);
    return handle.evaluate((el, attr) => el.getAttribute(attr), name);
  }

  async isDisabled(target: Target): Promise<boolean> {
    const handle = await this.find(target);
    return handle.evaluate((el) => (el as HTMLButtonElement).disabled === true);
  }

  async isChecked(target: Target): Promise<boolean> {
    const handle = await this.find(target);
    return handle.evaluate((el) => (el as HTMLInputElement).checked === true);
  }

  async value(target: Target): Promise<string> {
    const handle = await this.find(target);
    return handle.evaluate((el) => (el as HTMLInputElement).value);
  }

  /** Clicks the element (scrolled into view) with the mouse, as a person would. */
  async click(target: Target): Promise<void> {
    const handle = await this.find(target);
    await handle.click();
  }

  /**
   * Replaces the field's value and announces it with an input event, as typing does (the composer
   * and forms are controlled components that listen for it).
   */
  async fill(target: Target, value: string): Promise<void> {
    const handle = await this.find(target);
    await handle.evaluate((el, text) => {
      const field = el as HTMLInputElement | HTMLTextAreaElement;
      field.focus();
      const proto = Object.getPrototypeOf(field) as object;
      const setter = Object.getOwnPropertyDescriptor(proto, 'value')?.set;
      if (setter === undefined) throw new Error('not a text field');
      setter.call(field, text);
      field.dispatchEvent(new Event('input', { bubbles: true }));
      field.dispatchEvent(new Event('change', { bubbles: true }));
    }, value);
  }

  /** Focuses the element and presses a key, holding Control with it when asked (Ctrl+Enter sends). */
  async press(target: Target, key: 'Enter', withControl = false): Promise<void> {
    const handle = await this.find(target);
    await handle.focus();
    const keyboard = pageOf(this.scope).keyboard;
    if (withControl) await keyboard.down('Control');
    try {
      await keyboard.press(key);
    } finally {
      if (withControl) await keyboard.up('Control');
    }
  }
}

function pageOf(scope: Page | Frame): Page {
  return 'page' in scope && typeof scope.page === 'function' ? scope.page() : (scope as Page);
}
