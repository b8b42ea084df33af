/** Inline style properties set on one element, with what the page had there before. */
interface Saved {
  element: HTMLElement;
  before: Map<string, { value: string; priority: string }>;
}

/**
 * Moves the CRM page's content out from under the pinned panel, and puts it back exactly as it was.
 * Through the CSSOM (element.style), which a page's Content-Security-Policy does not govern, unlike
 * an injected <style> element. <html> gets a right margin, so everything laid out in the normal
 * flow narrows; elements the host positions against the window are narrowed on their own.
 */
export class PageShift {
  private saved: Saved[] = [];
  private width = 0;

  constructor(private readonly anchored: readonly string[]) {}

  /** Reserves `width` pixels on the right of the page (0 gives them back). Idempotent; reapplies to re-rendered elements. */
  set(width: number): void {
    if (width <= 0) {
      this.restore();
      return;
    }
    if (width !== this.width) this.restore();
    this.width = width;
    // Elements a single-page app re-rendered are gone with our styles on them: forget them.
    this.saved = this.saved.filter((s) => s.element.isConnected);
    this.apply(document.documentElement, { 'margin-right': `${width}px` });
    if (this.anchored.length === 0) return;
    for (const element of document.querySelectorAll<HTMLElement>(this.anchored.join(','))) {
      this.apply(element, { right: `${width}px`, 'max-width': `calc(100% - ${width}px)` });
    }
  }

  private apply(element: HTMLElement, properties: Record<string, string>): void {
    if (this.saved.some((s) => s.element === element)) return;
    const before = new Map<string, { value: string; priority: string }>();
    for (const [name, value] of Object.entries(properties)) {
      before.set(name, {
        value: element.style.getPropertyValue(name),
        priority: element.style.getPropertyPriority(name),
      });
      element.style.setProperty(name, value, 'important');
    }
    this.saved.push({ element, before });
  }

  private restore(): void {
    for (const { element, before } of this.saved.splice(0)) {
      for (const [name, { value, priority }] of before) {
        if (value === '') element.style.removeProperty(name);
        else element.style.setProperty(name, value, priority);
      }
    }
    this.width = 0;
  }
}
