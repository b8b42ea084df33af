/**
 * How the docked panel sits beside the CRM page: `pinned` moves the page's content aside so the panel
 * covers none of the record; `overlay` floats over the page, as before, for screens too narrow to share.
 */
export type DockMode = 'pinned' | 'overlay';

/** The docked panel's remembered layout (storage.local, one per CRM host: see `layoutKey`). */
export interface PanelLayout {
  collapsed: boolean;
  width: number;
  mode: DockMode;
}

/** Where layouts were kept before they were remembered per host; still read as every host's fallback. */
export const PANEL_LAYOUT_KEY = 'panelLayout';
export const MIN_WIDTH = 320;
export const MAX_WIDTH = 640;
/** How much of the CRM page stays visible beside the panel on a narrow window. */
const PAGE_MIN = 80;
/** The collapse tab and the pin button stand this far out from the panel's left edge. */
export const TAB_WIDTH = 34;
export const DEFAULT_LAYOUT: PanelLayout = { collapsed: false, width: 380, mode: 'pinned' };

/** The storage.local key of one CRM host's layout: HubSpot's two-column record wants another width than Salesforce's. */
export function layoutKey(hostId: string): string {
  return `${PANEL_LAYOUT_KEY}.${hostId}`;
}

/** Keeps the panel usable and leaves some of the CRM page visible on narrow windows. */
export function clampWidth(width: number, viewport: number): number {
  const max = Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, viewport - PAGE_MIN));
  return Math.round(Math.min(max, Math.max(MIN_WIDTH, width)));
}

/**
 * How many pixels the page must give up on its right: while pinned and open, the panel's width and
 * the strip its tab stands in (so the tab covers none of the page either); else none.
 */
export function reservedWidth(layout: PanelLayout, viewport: number): number {
  return layout.mode === 'pinned' && !layout.collapsed ? clampWidth(layout.width, viewport) + TAB_WIDTH : 0;
}

/** Reads a stored layout, falling back per field on anything malformed. */
export function parseLayout(value: unknown): PanelLayout {
  if (typeof value !== 'object' || value === null) return { ...DEFAULT_LAYOUT };
  const { collapsed, width, mode } = value as Record<string, unknown>;
  return {
    collapsed: typeof collapsed === 'boolean' ? collapsed : DEFAULT_LAYOUT.collapsed,
    width: typeof width === 'number' && Number.isFinite(width) ? width : DEFAULT_LAYOUT.width,
    mode: mode === 'pinned' || mode === 'overlay' ? mode : DEFAULT_LAYOUT.mode,
  };
}
