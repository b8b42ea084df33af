/** The docked panel's remembered layout (storage.local `panelLayout`). */
export interface PanelLayout {
  collapsed: boolean;
  width: number;
}

export const PANEL_LAYOUT_KEY = 'panelLayout';
export const MIN_WIDTH = 300;
export const MAX_WIDTH = 900;
export const DEFAULT_LAYOUT: PanelLayout = { collapsed: false, width: 380 };

/** Keeps the panel usable and leaves some of the CRM page visible on narrow windows. */
export function clampWidth(width: number, viewport: number): number {
  const max = Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, viewport - 80));
  return Math.round(Math.min(max, Math.max(MIN_WIDTH, width)));
}

/** Reads a stored layout, falling back per field on anything malformed. */
export function parseLayout(value: unknown): PanelLayout {
  if (typeof value !== 'object' || value === null) return { ...DEFAULT_LAYOUT };
  const { collapsed, width } = value as Record<string, unknown>;
  return {
    collapsed: typeof collapsed === 'boolean' ? collapsed : DEFAULT_LAYOUT.collapsed,
    width: typeof width === 'number' && Number.isFinite(width) ? width : DEFAULT_LAYOUT.width,
  };
}
