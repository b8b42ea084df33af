/**
 * One contract suite every SmsProvider passes (issue #14 step 2), as test/crm-plugins does for
 * the CRM plugins: Plivo through its SDK against the wire fake, and the sandbox network. Adding a
 * provider is one harness here.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlivoProvider } from '../../server/providers/plivo.ts';
import { signPlivoV3 } from '../../server/providers/plivo-signature.ts';
import { SANDBOX_FAILURES, SandboxSmsNetwork } from '../../server/providers/sandbox-sms.ts';
import type { OutboundSms, SignedRequest, SmsProvider } from '../../server/providers/sms-provider.ts';
import { FakePlivo } from '../fakes/plivo-fake.ts';
import { freshPglite } from '../helpers/db.ts';
import { providerFailure } from '../helpers/provider-failure.ts';

/** One provider under test plus the network behind it. */
interface ProviderHarness {
  provider: SmsProvider;
  /** The token webhooks from this network are signed with. */
  webhookToken: string;
  /** A destination the network refuses for good. */
  refusedDestination(): string;
  /** Where this network's status callbacks for the suite's texts go. */
  statusCallbackUrl: string;
  /** The webhooks the network has called back with so far. */
  received: SignedRequest[];
  /** A number the network's account holds (the fake Plivo is told it rents it). */
  ownedNumber(): string;
  /** A number the account does not hold, or null for a network that holds every number. */
  unownedNumber: string | null;
  /**
   * A Powerpack of the account whose number pool holds the number (rented first), or null for a
   * network without Powerpacks (which then never says a number is in one).
   */
  powerpackHolding(number: string): string | null;
  /** Makes the next send fail in a way that can succeed later, where the network can. */
  failNextTemporarily: (() => void) | null;
  stop(): Promise<void>;
}

/** A loopback endpoint that records the signed form posts it receives. */
async function startCallbackSink(): Promise<{
  url: string;
  received: SignedRequest[];
  stop(): Promise<void>;
}> {
  const received: SignedRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${req.url ?? '/'}`;
      received.push({
        method: 'POST',
        url,
        headers: req.headers,
        params: Object.fromEntries(new URLSearchParams(body)),
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/plivo/status`,
    received,
    stop: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

const PLIVO = { authId: 'MAFAKEACCOUNT0000001', authToken: 'fake-plivo-token' };

const HARNESSES: Record<string, () => Promise<ProviderHarness>> = {
  plivo: async () => {
    const fake = new FakePlivo({ ...PLIVO, hangMs: 1500, slowMs: 100, callbackDelayMs: 5 });
    const sink = await startCallbackSink();
    const provider = new PlivoProvider({
      ...PLIVO,
      apiUrl: await fake.start(),
      timeoutMs: 500,
      statusCallbackUrl: sink.url,
    });
    return {
      provider,
      webhookToken: PLIVO.authToken,
      statusCallbackUrl: sink.url,
      received: sink.received,
      refusedDestination: () => {
        fake.queuedFailures.push('400');
        return '+14155550142';
      },
      ownedNumber: () => {
        fake.numbers.rent('+14155550100');
        return '+14155550100';
      },
      unownedNumber: '+14155550189',
      powerpackHolding: (number) => {
        const powerpack = fake.powerpacks.create('Contract suite');
        fake.numbers.rent(number);
        fake.powerpacks.add(powerpack, number);
        return powerpack;
      },
      failNextTemporarily: () => fake.queuedFailures.push('500'),
      stop: async () => {
        await provider.close();
        await fake.stop();
        await sink.stop();
      },
    };
  },
  sandbox: async () => {
    const db = await freshPglite();
    const token = 'sandbox-webhook-token';
    const publicUrl = 'http://127.0.0.1:1';
    const received: SignedRequest[] = [];
    const network = new SandboxSmsNetwork(db, token, publicUrl, () => undefined, {
      sentMs: 5,
      deliveredMs: 10,
    });
    network.connect(async ({ path, headers, body }) => {
      received.push({
        method: 'POST',
        url: `${publicUrl}${path}`,
        headers,
        params: Object.fromEntries(new URLSearchParams(body)),
      });
      return 200;
    });
    return {
      provider: network,
      webhookToken: token,
      statusCallbackUrl: `${publicUrl}/webhooks/plivo/status`,
      received,
      refusedDestination: () => `+1415555${SANDBOX_FAILURES.rejected}`,
      // The sandbox network holds every number (its handsets text whatever number they are given).
      ownedNumber: () => '+14155550100',
      unownedNumber: null,
      // The sandbox has no Powerpacks: it cannot prove a number is one organisation's.
      powerpackHolding: () => null,
      // The sandbox has no temporary failure mode: its failures are by destination, and permanent.
      failNextTemporarily: null,
      stop: () => network.close(),
    };
  },
};

/** Networks whose harness can make a send fail temporarily. */
const TEMPORARY_FAILURES = new Set(['plivo']);

const sms = (to: string, body: string): OutboundSms => ({
  clientRef: `msg-${body}`,
  from: '+14155550100',
  to,
  body,
  statusCallbackUrl: 'http://127.0.0.1:1/webhooks/plivo/status',
});

for (const [name, start] of Object.entries(HARNESSES)) {
  describe(`SmsProvider contract: ${name}`, () => {
    let h: ProviderHarness;
    beforeAll(async () => {
      h = await start();
    });
    afterAll(async () => {
      await h.stop();
    });

    it('accepts a text and answers with a provider id of its own per send', async () => {
      const first = await h.provider.send(sms('+14155550123', 'first'));
      const second = await h.provider.send(sms('+14155550123', 'second'));
      expect(first.providerMessageId).not.toBe('');
      expect(second.providerMessageId).not.toBe(first.providerMessageId);
    });

    it('finds an accepted text again by destination, for crash recovery, and not for another number', async () => {
      const since = new Date(Date.now() - 1000);
      const { providerMessageId } = await h.provider.send(sms('+14155550161', 'recover me'));
      const found = await h.provider.findAccepted(
        { clientRef: 'msg-recover me', from: '+14155550100', to: '+14155550161' },
        since,
      );
      expect(found).toContain(providerMessageId);
      const other = await h.provider.findAccepted(
        { clientRef: 'msg-recover me', from: '+14155550100', to: '+14155550162' },
        since,
      );
      expect(other).not.toContain(providerMessageId);
    });

    it('refuses an invalid destination for good: not retryable, not ambiguous', async () => {
      const error = await providerFailure(h.provider.send(sms(h.refusedDestination(), 'refused')));
      expect(error.retryable).toBe(false);
      expect(error.ambiguous).toBe(false);
    });

    // Only networks that can fail temporarily get this case; the sandbox's failures are permanent.
    if (TEMPORARY_FAILURES.has(name))
      it('reports a temporary failure as retryable, and the next send goes through', async () => {
        h.failNextTemporarily?.();
        const error = await providerFailure(h.provider.send(sms('+14155550123', 'temporary')));
        expect(error.retryable).toBe(true);
        expect((await h.provider.send(sms('+14155550123', 'after'))).providerMessageId).not.toBe('');
      });

    it('calls the status callback, signed, with sent and then delivered for the provider id', async () => {
      const { providerMessageId } = await h.provider.send({
        ...sms('+14155550171', 'tracked'),
        statusCallbackUrl: h.statusCallbackUrl,
      });
      const mine = () => h.received.filter((r) => r.params.MessageUUID === providerMessageId);
      await expect
        .poll(() => mine().some((r) => r.params.Status === 'delivered'), { timeout: 3000 })
        .toBe(true);
      expect(mine().map((r) => r.params.Status)).toEqual(['sent', 'delivered']);
      for (const request of mine()) expect(h.provider.verifyWebhook(request)).toBe(true);
    });

    it('calls back where it was built to when the send names no callback URL', async () => {
      const { statusCallbackUrl: _named, ...unnamed } = sms('+14155550172', 'built-in callback');
      const { providerMessageId } = await h.provider.send(unnamed);
      const mine = () => h.received.filter((r) => r.params.MessageUUID === providerMessageId);
      await expect
        .poll(() => mine().some((r) => r.params.Status === 'delivered'), { timeout: 3000 })
        .toBe(true);
      for (const request of mine()) expect(new URL(request.url).pathname).toBe('/webhooks/plivo/status');
    });

    it('says whether its account holds a number an organisation wants to send from', async () => {
      expect(await h.provider.ownsNumber(h.ownedNumber())).toMatchObject({ owned: true });
      if (h.unownedNumber !== null)
        expect(await h.provider.ownsNumber(h.unownedNumber)).toEqual({
          owned: false,
          reason: expect.any(String),
        });
    });

    it('says whether a Powerpack holds the number only when asked, and never that one holds a number it does not', async () => {
      expect(await h.provider.ownsNumber(h.ownedNumber())).not.toHaveProperty('inPowerpack');
      const powerpack = h.powerpackHolding('+14155550190');
      const asked = powerpack ?? '6f1c1d4e-0000-4000-8000-000000000000';
      expect(await h.provider.ownsNumber('+14155550190', { powerpackUuid: asked })).toMatchObject({
        inPowerpack: powerpack !== null,
      });
      expect(await h.provider.ownsNumber('+14155550191', { powerpackUuid: asked })).toMatchObject({
        inPowerpack: false,
      });
    });

    it('trusts a webhook signed with its token and nothing altered or unsigned', () => {
      const url = 'https://relay.example/webhooks/plivo/status';
      const params = { MessageUUID: 'u-1', Status: 'delivered' };
      const nonce = '12345678901234567890';
      const headers = {
        'x-plivo-signature-v3': signPlivoV3('POST', url, params, nonce, h.webhookToken),
        'x-plivo-signature-v3-nonce': nonce,
      };
      expect(h.provider.verifyWebhook({ method: 'POST', url, headers, params })).toBe(true);
      expect(
        h.provider.verifyWebhook({ method: 'POST', url, headers, params: { ...params, Status: 'failed' } }),
      ).toBe(false);
      expect(h.provider.verifyWebhook({ method: 'POST', url, headers: {}, params })).toBe(false);
    });
  });
}
