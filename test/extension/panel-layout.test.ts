// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { hostOf, hosts } from '../../extension/hosts/registry.ts';
import {
  clampWidth,
  DEFAULT_LAYOUT,
  layoutKey,
  type PanelLayout,
  parseLayout,
  reservedWidth,
} from '../../extension/lib/dock/panel-layout.ts';

describe('docked panel layout', () => {
  it('pins beside the page by default, 380 px wide and open', () => {
    expect(DEFAULT_LAYOUT).toEqual({ collapsed: false, width: 380, mode: 'pinned' });
    expect(parseLayout(undefined)).toEqual(DEFAULT_LAYOUT);
  });

  it('keeps the width between 320 and 640 px and leaves 80 px of a narrow page visible', () => {
    expect(clampWidth(319, 1440)).toBe(320);
    expect(clampWidth(641, 1440)).toBe(640);
    expect(clampWidth(480.4, 1440)).toBe(480);
    expect(clampWidth(640, 500)).toBe(420);
    // Never narrower than usable, even when that covers a tiny window.
    expect(clampWidth(640, 300)).toBe(320);
  });

  it('takes room from the page, for the panel and its tab, only while pinned and open', () => {
    const layout: PanelLayout = { collapsed: false, width: 700, mode: 'pinned' };
    expect(reservedWidth(layout, 1440)).toBe(640 + 34);
    expect(reservedWidth({ ...layout, collapsed: true }, 1440)).toBe(0);
    expect(reservedWidth({ ...layout, mode: 'overlay' }, 1440)).toBe(0);
  });

  it('reads the mode from storage and falls back on anything else', () => {
    expect(parseLayout({ collapsed: true, width: 400, mode: 'overlay' })).toEqual({
      collapsed: true,
      width: 400,
      mode: 'overlay',
    });
    expect(parseLayout({ collapsed: true, width: 400, mode: 'floating' }).mode).toBe('pinned');
    expect(parseLayout({ width: Number.NaN }).width).toBe(380);
  });

  it('remembers a layout per CRM, under a key of its own', () => {
    expect(new Set(hosts.map((h) => layoutKey(h.id))).size).toBe(hosts.length);
    expect(layoutKey('hubspot')).toBe('panelLayout.hubspot');
  });

  it('knows which CRM any page of its app belongs to, record or not', () => {
    const owner = (url: string): string | undefined => hostOf(new URL(url))?.id;
    expect(owner('https://app.hubspot.com/contacts/8675309/objects/0-1/views/all/list')).toBe('hubspot');
    expect(owner('https://app-eu1.hubspot.com/reports-dashboard/1/view/2')).toBe('hubspot');
    expect(owner('https://acme.lightning.force.com/lightning/page/home')).toBe('salesforce');
    expect(owner('http://127.0.0.1:8787/sandbox/crm')).toBe('sandbox');
    expect(owner('http://127.0.0.1:8787/sandbox/crm/contacts/c_1')).toBe('sandbox');
    expect(owner('http://127.0.0.1:8787/sandbox/phone')).toBeUndefined();
    expect(owner('https://app.hubspot.com.evil.example/contacts')).toBeUndefined();
  });
});
