import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExplainedStore } from '../../extension/lib/refusal-guide.ts';
import { mounter, until } from './preact-dom.ts';

type Preact = typeof import('preact');
let preact: Preact;
let RefusalGuide: typeof import('../../extension/components/RefusalGuide.tsx').RefusalGuide;
const { mount, cleanup } = mounter(() => preact);

beforeAll(async () => {
  preact = await import('preact');
  ({ RefusalGuide } = await import('../../extension/components/RefusalGuide.tsx'));
});
afterEach(cleanup);

function memoryStore(): ExplainedStore & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    load: async () => [...seen],
    add: async (code) => {
      if (!seen.includes(code)) seen.push(code);
    },
  };
}

// Issue #17 (6): the first time a rep meets each kind of refusal, the panel says why and what to do.
describe('the refusal guide', () => {
  it('explains a refusal the first time only, until the rep says "Got it"', async () => {
    const store = memoryStore();
    const first = mount(<RefusalGuide code="OPTED_OUT" store={store} />);
    await until(() => first.textContent?.includes('What to do instead'), 'the explanation');
    expect(first.textContent).toContain('TCPA');
    expect(first.textContent).toContain('START');
    (first.querySelector('button') as HTMLButtonElement).click();
    await until(() => store.seen.includes('OPTED_OUT'), 'remembered');
    expect(first.textContent).toBe('');
    const again = mount(<RefusalGuide code="OPTED_OUT" store={store} />);
    await new Promise((r) => setTimeout(r, 20));
    expect(again.textContent).toBe('');
    // Another kind is still explained once.
    const other = mount(<RefusalGuide code="QUIET_HOURS" store={store} />);
    await until(() => other.textContent?.includes('Schedule the text'), 'the quiet-hours explanation');
  });

  it('says nothing for a code it has no guide for', async () => {
    const root = mount(<RefusalGuide code="CRM_NOT_CONNECTED" store={memoryStore()} />);
    await new Promise((r) => setTimeout(r, 20));
    expect(root.textContent).toBe('');
  });

  it('explains every compliance refusal the relay can give a send', async () => {
    const { REFUSAL_GUIDE } = await import('../../extension/lib/refusal-guide.ts');
    for (const code of [
      'OPTED_OUT',
      'NO_CONSENT',
      'QUIET_HOURS',
      'SENSITIVE_CONTENT',
      'FREQUENCY_CAP',
      'PAUSED_FOR_REVIEW',
      'BODY_TOO_LONG',
      'UNKNOWN_TIME_ZONE',
      'SENDING_PAUSED',
      'POLICY_NOT_ACKNOWLEDGED',
    ])
      expect(REFUSAL_GUIDE[code], code).toBeDefined();
  });
});
