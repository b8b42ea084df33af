import type { Static } from 'typebox';
import type { PaymentTermsSchema } from '../../contract/payments.ts';
import { formatMinor } from '../../extension/lib/money.ts';
import type { AdminApi } from '../lib/api.ts';
import { useLoad } from '../lib/use-load.ts';
import { Busy, Problem } from './Problem.tsx';

/**
 * The setup wizard's payments step: whether reps can send payment links, and on what terms. The
 * payment provider's account (Stripe) belongs to the relay's installation, so its operator connects
 * it; an org admin sets the terms (currencies, link lifetime, the largest amount).
 */
export function PaymentsStep({ api }: { api: AdminApi }) {
  const [terms, reload] = useLoad(
    () => api.get<Static<typeof PaymentTermsSchema>>('/v1/payment-requests/terms'),
    'terms',
  );
  if (terms.state === 'loading') return <Busy label="Asking whether payment links are set up…" />;
  if (terms.state === 'failed') {
    if (terms.problem.code !== 'PAYMENTS_NOT_CONFIGURED')
      return <Problem problem={terms.problem} retry={reload} />;
    return (
      <>
        <p>
          Payment links are not set up on this relay yet. The relay’s operator connects the payment provider
          once for the whole installation:
        </p>
        <pre>npm run cli -- payments connect stripe --restricted-key rk_live_… --webhook-secret whsec_…</pre>
        <p class="hint">Everything else works without it; reps simply do not see the payment link button.</p>
        <button type="button" class="secondary" onClick={reload}>
          Check again
        </button>
      </>
    );
  }
  const { businessName, currencies, linkDays, maxAmountMinor } = terms.value;
  const currency = currencies[0] ?? 'usd';
  return (
    <>
      <p>
        Payment links are ready: reps can text a link to pay {businessName}. Card numbers never pass through a
        text; the customer pays on the provider’s page.
      </p>
      <dl class="facts">
        <div>
          <dt>Currencies</dt>
          <dd>{currencies.map((c) => c.toUpperCase()).join(', ')}</dd>
        </div>
        <div>
          <dt>A link takes payment for</dt>
          <dd>
            {linkDays} day{linkDays === 1 ? '' : 's'}
          </dd>
        </div>
        <div>
          <dt>Largest amount one request may ask</dt>
          <dd>{formatMinor(maxAmountMinor, currency)}</dd>
        </div>
      </dl>
      <p class="hint">Change these under Compliance settings, “Payments, alerts and other settings”.</p>
    </>
  );
}
