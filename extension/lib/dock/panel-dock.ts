import type { ContactRef } from '../../hosts/types.ts';
import { encodeContactRef } from '../contact-ref.ts';
import { PageShift } from './page-shift.ts';
import {
  clampWidth,
  MAX_WIDTH,
  MIN_WIDTH,
  type PanelLayout,
  reservedWidth,
  TAB_WIDTH,
} from './panel-layout.ts';

const SVG = 'http://www.w3.org/2000/svg';

// Built with DOM calls rather than innerHTML so pages enforcing Trusted Types cannot break the dock.
function icon(d: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

const CHAT_ICON = 'M4 5h16v11H9l-5 4z';
const PIN_ICON = 'M9 3h6l-1 6 4 4H6l4-4zM12 13v8';

function button(className: string, iconPath: string): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.append(icon(iconPath));
  return b;
}

/** Tag of the element that hosts the panel's shadow root in the CRM page. */
export const DOCK_TAG = 'crm-texting-panel';

const CSS = `
:host{all:initial;position:fixed;top:0;right:0;height:100vh;z-index:2147483646;display:block;font:13px system-ui,sans-serif}
.dock{position:relative;height:100%}
.toggle,.pin{position:absolute;top:88px;left:-${TAB_WIDTH}px;width:${TAB_WIDTH}px;height:44px;border:1px solid #c9d1da;border-right:0;border-radius:8px 0 0 8px;background:#fff;color:#1f2933;cursor:pointer;box-shadow:-2px 2px 6px rgba(0,0,0,.12);padding:0;display:flex;align-items:center;justify-content:center}
.pin{top:136px;height:36px;color:#5f6b7a}
.pin[aria-pressed=true]{color:#1d4ed8;background:#eff6ff}
.toggle svg,.pin svg{width:18px;height:18px;fill:none;stroke:currentColor;stroke-width:2;stroke-linejoin:round}
.toggle:focus-visible,.pin:focus-visible,.grip:focus-visible{outline:2px solid #2563eb;outline-offset:1px}
.badge{position:absolute;top:-8px;left:-8px;min-width:18px;height:18px;border-radius:9px;background:#dc2626;color:#fff;font:bold 13px/18px system-ui,sans-serif;text-align:center;padding:0 4px}
.badge[hidden]{display:none}
iframe{display:block;box-sizing:border-box;width:100%;height:100%;border:0;border-left:1px solid #c9d1da;background:#fff;box-shadow:-4px 0 12px rgba(0,0,0,.08);color-scheme:light}
.grip{position:absolute;top:0;left:-4px;width:8px;height:100%;cursor:ew-resize;background:transparent;z-index:1}
.grip:hover,.grip:focus-visible,.dragging .grip{background:#93c5fd}
.dragging iframe{pointer-events:none}
.collapsed iframe,.collapsed .grip,.collapsed .pin{display:none}
`;

export interface PanelDockOptions {
  panelUrl: string;
  layout: PanelLayout;
  /** The host's elements anchored to the window, narrowed with the page when pinned (CrmHost.viewportAnchored). */
  anchored?: readonly string[];
  onLayoutChange(layout: PanelLayout): void;
  signal: AbortSignal;
}

/**
 * The panel docked to the right edge of the CRM page: an iframe of the extension's panel page inside
 * a shadow root, so page styles cannot reach it and page scripts cannot read what the panel shows.
 * Plain DOM on purpose: this runs in every CRM tab and must stay small.
 */
export class PanelDock {
  private readonly host = document.createElement(DOCK_TAG);
  private readonly root: HTMLDivElement;
  private readonly iframe: HTMLIFrameElement;
  private readonly toggle: HTMLButtonElement;
  private readonly pin: HTMLButtonElement;
  private readonly shift: PageShift;
  private readonly badge: HTMLSpanElement;
  private readonly grip: HTMLDivElement;
  private layout: PanelLayout;
  private dragFrom = { x: 0, width: 0 };
  private seenInbound = 0;
  private lastInbound = 0;

  constructor(private readonly options: PanelDockOptions) {
    this.layout = options.layout;
    this.shift = new PageShift(options.anchored ?? []);
    const shadow = this.host.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = CSS;
    this.root = document.createElement('div');
    this.root.className = 'dock';
    this.toggle = button('toggle', CHAT_ICON);
    this.toggle.setAttribute('aria-controls', 'panel');
    this.pin = button('pin', PIN_ICON);
    this.pin.setAttribute('aria-label', 'Pin beside the page');
    this.badge = document.createElement('span');
    this.badge.className = 'badge';
    this.badge.hidden = true;
    this.toggle.append(this.badge);
    this.grip = document.createElement('div');
    this.grip.className = 'grip';
    this.grip.tabIndex = 0;
    this.grip.setAttribute('role', 'separator');
    this.grip.setAttribute('aria-orientation', 'vertical');
    this.grip.setAttribute('aria-label', 'Resize texting panel');
    this.grip.setAttribute('aria-valuemin', String(MIN_WIDTH));
    this.grip.setAttribute('aria-valuemax', String(MAX_WIDTH));
    this.iframe = document.createElement('iframe');
    this.iframe.id = 'panel';
    this.iframe.title = 'Texting panel';
    this.root.append(this.toggle, this.pin, this.grip, this.iframe);
    shadow.append(style, this.root);
    this.wire(options.signal);
    this.render();
  }

  /** Shows the panel for `ref` (null: a record page we could not read). Only the hash changes between contacts. */
  show(ref: ContactRef | null): void {
    const src = `${this.options.panelUrl}${encodeContactRef(ref)}`;
    if (this.iframe.getAttribute('src') !== src) this.iframe.setAttribute('src', src);
    // The page may wipe foreign nodes while re-rendering; reattach to <html>, which SPAs leave alone.
    if (!this.host.isConnected) document.documentElement.append(this.host);
    this.shiftPage();
  }

  remove(): void {
    this.host.remove();
    this.shift.set(0);
  }

  /** Badges inbound messages that arrived while collapsed. */
  setInboundCount(count: number): void {
    if (count < this.seenInbound || !this.layout.collapsed) this.seenInbound = count;
    this.lastInbound = count;
    this.renderBadge();
  }

  private wire(signal: AbortSignal): void {
    const on = { signal };
    this.toggle.addEventListener('click', () => this.update({ collapsed: !this.layout.collapsed }), on);
    const mode = (): PanelLayout['mode'] => (this.layout.mode === 'pinned' ? 'overlay' : 'pinned');
    this.pin.addEventListener('click', () => this.update({ mode: mode() }), on);
    this.grip.addEventListener(
      'pointerdown',
      (event) => {
        if (event.button !== 0) return;
        this.grip.setPointerCapture(event.pointerId);
        this.root.classList.add('dragging');
        // From where the edge was grabbed, so the panel does not jump by the grip's own width.
        this.dragFrom = { x: event.clientX, width: clampWidth(this.layout.width, window.innerWidth) };
      },
      on,
    );
    this.grip.addEventListener(
      'pointermove',
      (event) => {
        if (!this.grip.hasPointerCapture(event.pointerId)) return;
        this.applyWidth(this.dragFrom.width + this.dragFrom.x - event.clientX);
      },
      on,
    );
    const endDrag = (event: PointerEvent): void => {
      if (!this.root.classList.contains('dragging')) return;
      this.root.classList.remove('dragging');
      if (this.grip.hasPointerCapture(event.pointerId)) this.grip.releasePointerCapture(event.pointerId);
      this.update({});
    };
    this.grip.addEventListener('pointerup', endDrag, on);
    this.grip.addEventListener('pointercancel', endDrag, on);
    this.grip.addEventListener(
      'keydown',
      (event) => {
        // Docked on the right, so moving the edge left (ArrowLeft) widens the panel.
        const steps: Record<string, number> = {
          ArrowLeft: 24,
          ArrowRight: -24,
          Home: MIN_WIDTH - MAX_WIDTH,
          End: MAX_WIDTH - MIN_WIDTH,
        };
        const step = steps[event.key];
        if (step === undefined) return;
        event.preventDefault();
        this.update({ width: this.layout.width + step });
      },
      on,
    );
    window.addEventListener('resize', () => this.render(), on);
  }

  private applyWidth(width: number): void {
    this.layout = { ...this.layout, width: clampWidth(width, window.innerWidth) };
    this.render();
  }

  private update(change: Partial<PanelLayout>): void {
    this.layout = { ...this.layout, ...change };
    this.layout.width = clampWidth(this.layout.width, window.innerWidth);
    if (!this.layout.collapsed) this.seenInbound = this.lastInbound;
    this.render();
    this.options.onLayoutChange(this.layout);
  }

  private render(): void {
    const { collapsed, mode } = this.layout;
    const width = clampWidth(this.layout.width, window.innerWidth);
    this.root.classList.toggle('collapsed', collapsed);
    this.host.style.width = collapsed ? '0' : `${width}px`;
    this.toggle.setAttribute('aria-expanded', String(!collapsed));
    this.toggle.setAttribute('aria-label', collapsed ? 'Show texting panel' : 'Hide texting panel');
    this.toggle.title = this.toggle.getAttribute('aria-label') ?? '';
    this.pin.setAttribute('aria-pressed', String(mode === 'pinned'));
    this.pin.title =
      mode === 'pinned'
        ? 'Pinned: the page moves aside for the panel. Click to float the panel over the page.'
        : 'Floating over the page. Click to pin the panel beside the page.';
    this.grip.setAttribute('aria-valuenow', String(width));
    this.shiftPage();
    this.renderBadge();
  }

  /** Makes room on the page for the panel while it is shown, pinned and open; gives it back otherwise. */
  private shiftPage(): void {
    this.shift.set(this.host.isConnected ? reservedWidth(this.layout, window.innerWidth) : 0);
  }

  private renderBadge(): void {
    const unread = this.layout.collapsed ? this.lastInbound - this.seenInbound : 0;
    this.badge.hidden = unread <= 0;
    this.badge.textContent = unread > 99 ? '99+' : String(unread);
  }
}
