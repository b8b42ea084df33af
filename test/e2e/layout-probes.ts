import type { Frame, Page } from 'puppeteer-core';

/** An element's box in CSS pixels of the page's viewport, rounded; all zero when it is not rendered. */
export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
  width: number;
  height: number;
}

const NONE: Box = { left: 0, top: 0, right: 0, bottom: 0, width: 0, height: 0 };

function box(rect: { x: number; y: number; width: number; height: number }): Box {
  const left = Math.round(rect.x);
  const top = Math.round(rect.y);
  const width = Math.round(rect.width);
  const height = Math.round(rect.height);
  return { left, top, width, height, right: left + width, bottom: top + height };
}

/** Whether two boxes share any area (touching edges do not count). */
export function overlaps(a: Box, b: Box): boolean {
  if (a.width === 0 || b.width === 0) return false;
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/** The box of the first element matching `selector` (`>>>` reaches into shadow roots); throws if there is none. */
export async function boxOf(page: Page, selector: string): Promise<Box> {
  const handle = await page.$(selector);
  if (handle === null) throw new Error(`no element ${selector} on ${page.url()}`);
  try {
    const rect = await handle.boundingBox();
    return rect === null ? NONE : box(rect);
  } finally {
    await handle.dispose();
  }
}

/** What the docked panel shows now: its frame's box, the collapse tab's, their states and the page's shift. */
export interface DockState {
  present: boolean;
  panel: Box;
  tab: Box;
  pin: Box;
  /** The collapse tab's aria-expanded. */
  expanded: string | null;
  /** The pin button's aria-pressed. */
  pinned: string | null;
  /** The resize handle's aria-valuenow. */
  gripValue: string | null;
  /** The inline margin-right the dock put on <html> ('' when none). */
  htmlMarginRight: string;
}

export async function dockState(page: Page): Promise<DockState> {
  const raw = await page.evaluate(() => {
    const host = document.querySelector('crm-texting-panel');
    const root = host?.shadowRoot;
    const rect = (selector: string) => {
      const r = root?.querySelector(selector)?.getBoundingClientRect();
      return r === undefined
        ? { x: 0, y: 0, width: 0, height: 0 }
        : { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    return {
      present: host?.isConnected === true,
      panel: rect('iframe'),
      tab: rect('.toggle'),
      pin: rect('.pin'),
      expanded: root?.querySelector('.toggle')?.getAttribute('aria-expanded') ?? null,
      pinned: root?.querySelector('.pin')?.getAttribute('aria-pressed') ?? null,
      gripValue: root?.querySelector('.grip')?.getAttribute('aria-valuenow') ?? null,
      htmlMarginRight: document.documentElement.style.marginRight,
    };
  });
  return { ...raw, panel: box(raw.panel), tab: box(raw.tab), pin: box(raw.pin) };
}

/**
 * Every rendered piece of text in a document (or in the shadow root of `shadowHost`) set smaller than
 * `min` pixels, described as `tag.class 11px "text"`: text nodes by their parent's computed size,
 * form controls by their own.
 */
export function fontsUnder(frame: Frame, min: number, shadowHost?: string): Promise<string[]> {
  return frame.evaluate(
    (limit, hostSelector) => {
      const root: ParentNode | null | undefined =
        hostSelector === null ? document : document.querySelector(hostSelector)?.shadowRoot;
      if (!root) return [`no ${hostSelector} to read`];
      const small: string[] = [];
      for (const el of root.querySelectorAll('*')) {
        if (el.getClientRects().length === 0) continue;
        const control = el.matches('input:not([type=radio]):not([type=checkbox]), textarea, select, button');
        const text = [...el.childNodes]
          .filter((n) => n.nodeType === Node.TEXT_NODE)
          .map((n) => n.textContent ?? '')
          .join('')
          .trim();
        if (!control && text === '') continue;
        const size = Number.parseFloat(getComputedStyle(el).fontSize);
        if (size < limit)
          small.push(`${el.tagName.toLowerCase()}.${el.className} ${size}px "${text.slice(0, 40)}"`);
      }
      return small;
    },
    min,
    shadowHost ?? null,
  );
}
