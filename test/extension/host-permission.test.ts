// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { relayOriginPattern } from '../../extension/lib/host-permission.ts';

describe('the host permission a relay needs', () => {
  it('names scheme and host without the port, which Firefox match patterns cannot carry', () => {
    // With the port, Firefox finds the pattern outside the manifest's http://127.0.0.1/* and waits on
    // a permission prompt that a headless or locked-down browser never shows: sign-in hangs.
    expect(relayOriginPattern('http://127.0.0.1:36883')).toBe('http://127.0.0.1/*');
    expect(relayOriginPattern('https://relay.acme.example:8443/texting')).toBe(
      'https://relay.acme.example/*',
    );
    expect(relayOriginPattern('http://[::1]:8787')).toBe('http://[::1]/*');
  });

  it('keeps the scheme apart: an http relay never grants its https twin, nor the reverse', () => {
    expect(relayOriginPattern('https://relay.acme.example')).toBe('https://relay.acme.example/*');
    expect(relayOriginPattern('http://relay.acme.example')).toBe('http://relay.acme.example/*');
  });
});
