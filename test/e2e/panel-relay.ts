import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hotp, totpCode, totpStep } from '../../server/auth/totp.ts';
import { createUser } from '../../server/auth/users.ts';
import { loadConfig } from '../../server/config.ts';
import { secretsKey } from '../../server/crypto/secrets.ts';
import type { Database } from '../../server/db/database.ts';
import { addSenderNumber, createKeyForOrg, createOrg } from '../../server/organisations/org-admin.ts';
import { type Relay, startRelay } from '../../server/runtime.ts';
import { connectAndInstall } from '../crm-sync/setup.ts';
import { type HubSpotFake, startHubSpotFake } from '../fakes/hubspot-fake.ts';
import { type SalesforceFake, startSalesforceFake } from '../fakes/salesforce-fake.ts';
import { freshPglite } from '../helpers/db.ts';
import { daytimeAheadClock } from '../helpers/relay.ts';
import { freePort } from '../helpers/relay-process.ts';

/** The business number the org texts from (DC area code: no state quiet-hours rule of its own). */
export const SENDER = '+12025550100';
/** The HubSpot portal (hub) id in the record URLs and the connection settings. */
export const PORTAL_ID = '62515';

export interface PanelUser {
  email: string;
  password: string;
  /** The base32 TOTP secret, as the authenticator app holds it. */
  totpSecret: string;
}

export interface ApiAnswer {
  status: number;
  json: unknown;
}

/**
 * A real relay (server/runtime.ts `startRelay`, the code `npm start` runs) listening on a port, on an
 * in-memory PGlite, with the sandbox SMS network and the outbox and CRM sync workers running, and its
 * HubSpot and Salesforce connections pointed at the contract-faithful fakes. Seeded with one org, one
 * sender number, an owner API key (for the test's own API calls) and a rep who signs in with a
 * password and an enrolled authenticator app.
 */
export class PanelRelay {
  /** The last TOTP step each user's authenticator code used, by email (the relay refuses a reused step). */
  private readonly lastTotpStep = new Map<string, number>();
  /** The rep's session from before enrolment (the web app's), for texts the rep sent earlier. */
  private repToken = '';

  private constructor(
    readonly relay: Relay,
    readonly url: string,
    readonly orgId: string,
    /** An owner API key, for the test's calls (consent, message checks); the browser never sees it. */
    readonly ownerKey: string,
    readonly user: PanelUser,
    readonly hubspot: HubSpotFake,
    readonly salesforce: SalesforceFake,
    private readonly restoreHome: () => void,
  ) {}

  get db(): Database {
    return this.relay.db;
  }

  /**
   * The relay's clock: at its start Washington DC is at noon and Guam at night, whatever the real
   * hour, so the scenarios find a number to text and one in quiet hours at any time of day. It is
   * never behind the browser's clock, so token expiry times never look past to the extension.
   */
  static readonly clock = daytimeAheadClock();

  static async start(): Promise<PanelRelay> {
    // @salesforce/core writes under HOME and logs to a file unless told not to.
    const restoreHome = isolateHome();
    const [hubspot, salesforce, db, port] = await Promise.all([
      startHubSpotFake(),
      startSalesforceFake(),
      freshPglite(),
      freePort(),
    ]);
    const url = `http://127.0.0.1:${port}`;
    const key = randomBytes(32);
    const config = loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      SMS_PROVIDER: 'sandbox',
      SECRETS_KEY: key.toString('base64'),
      LOG_LEVEL: 'silent',
      OUTBOX_WORKER: 'on',
    });

    const { orgId } = await createOrg(db, 'Acme Dental');
    await addSenderNumber(db, { orgId, e164: SENDER, label: 'Front desk' });
    const { key: ownerKey } = await createKeyForOrg(db, { orgId, role: 'owner', name: 'e2e owner' });
    const user: PanelUser = {
      email: 'rep@acme-dental.example',
      password: 'correct horse battery staple',
      totpSecret: '',
    };
    await createUser(db, {
      orgId,
      email: user.email,
      role: 'rep',
      displayName: 'Rita Rep',
      password: user.password,
      actor: 'e2e',
      now: PanelRelay.clock(),
      publicUrl: url,
    });
    const sealing = secretsKey(key);
    await connectAndInstall(db, sealing, {
      orgId,
      crm: 'hubspot',
      settings: { baseUrl: hubspot.baseUrl, portalId: PORTAL_ID },
      secrets: { accessToken: hubspot.accessToken },
    });
    await connectAndInstall(db, sealing, {
      orgId,
      crm: 'salesforce',
      settings: { instanceUrl: salesforce.instanceUrl },
      secrets: { accessToken: salesforce.accessToken },
    });

    const relay = await startRelay(config, { db, logger: false, clock: PanelRelay.clock });
    await relay.app.listen({ port, host: '127.0.0.1' });
    const panelRelay = new PanelRelay(relay, url, orgId, ownerKey, user, hubspot, salesforce, restoreHome);
    panelRelay.repToken = await panelRelay.enrolAuthenticator(user);
    return panelRelay;
  }

  /**
   * Enrols a user's authenticator as the relay's web app does: sign in, enrol, confirm a code. Sets
   * the user's `totpSecret` and returns the session it signed in with.
   */
  private async enrolAuthenticator(user: PanelUser): Promise<string> {
    const login = await this.call('POST', '/v1/auth/login', {
      body: { email: user.email, password: user.password },
    });
    if (login.status !== 201) throw new Error(`${user.email} sign-in failed: ${JSON.stringify(login.json)}`);
    const { accessToken } = login.json as { accessToken: string };
    const enrol = await this.call('POST', '/v1/auth/totp/enrol', { token: accessToken });
    if (enrol.status !== 201) throw new Error(`TOTP enrolment failed: ${JSON.stringify(enrol.json)}`);
    user.totpSecret = (enrol.json as { secret: string }).secret;
    const now = PanelRelay.clock();
    const confirm = await this.call('POST', '/v1/auth/totp/confirm', {
      token: accessToken,
      body: { code: totpCode(user.totpSecret, now) },
    });
    if (confirm.status !== 200) throw new Error(`TOTP confirm failed: ${JSON.stringify(confirm.json)}`);
    this.lastTotpStep.set(user.email, totpStep(now));
    return accessToken;
  }

  /** Adds a custom role to the org as an admin would (POST /v1/roles with the owner key). */
  async addRole(name: string, permissions: readonly string[]): Promise<void> {
    const answer = await this.call('POST', '/v1/roles', { body: { name, permissions } });
    if (answer.status !== 201) throw new Error(`role ${name} was refused: ${JSON.stringify(answer.json)}`);
  }

  /**
   * Adds a user of the org with `role` (built-in or custom) who, like the first rep, signs in with a
   * password and an enrolled authenticator app.
   */
  async addUser(input: { email: string; role: string; displayName: string }): Promise<PanelUser> {
    const user: PanelUser = { email: input.email, password: 'plum tractor evening lantern', totpSecret: '' };
    await createUser(this.db, {
      orgId: this.orgId,
      email: user.email,
      role: input.role,
      displayName: input.displayName,
      password: user.password,
      actor: 'e2e',
      now: PanelRelay.clock(),
      publicUrl: this.url,
    });
    await this.enrolAuthenticator(user);
    return user;
  }

  /**
   * A text the rep sent before the scenarios (from the relay's API with their session), waited for
   * until delivered. A rep sees only the conversations they sent in, so a thread starts this way.
   */
  async sendAsRep(to: string, body: string): Promise<void> {
    await this.sendAndDeliver(this.repToken, to, body);
  }

  /** A text sent with the owner API key (an integration, not a user), waited for until delivered. */
  async sendWithApiKey(to: string, body: string): Promise<void> {
    await this.sendAndDeliver(this.ownerKey, to, body);
  }

  private async sendAndDeliver(token: string, to: string, body: string): Promise<void> {
    const answer = await this.call('POST', '/v1/messages', {
      token,
      headers: { 'idempotency-key': randomBytes(12).toString('hex') },
      body: { from: SENDER, to, body },
    });
    if (answer.status !== 202) throw new Error(`send to ${to} failed: ${JSON.stringify(answer.json)}`);
    const { id } = (answer.json as { message: { id: string } }).message;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const rows = await this.db.query<{ status: string }>('SELECT status FROM messages WHERE id = $1', [id]);
      if (rows[0]?.status === 'delivered') return;
      if (Date.now() > deadline) throw new Error(`text to ${to} was not delivered: ${rows[0]?.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * The code a user's authenticator shows now (the first rep's by default). The relay refuses a step
   * already used (the one that confirmed enrolment), and accepts one step of drift, so within the
   * same 30 s the next step's code is what a phone a second ahead would show.
   */
  authenticatorCode(user: PanelUser = this.user): string {
    const step = Math.max(totpStep(PanelRelay.clock()), (this.lastTotpStep.get(user.email) ?? 0) + 1);
    this.lastTotpStep.set(user.email, step);
    return hotp(user.totpSecret, step);
  }

  /** A call to the relay's API with the owner key (or another bearer token). */
  async call(
    method: 'GET' | 'POST',
    pathAndQuery: string,
    options: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
  ): Promise<ApiAnswer> {
    const token = options.token === undefined ? this.ownerKey : options.token;
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.url}${pathAndQuery}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
  }

  /** Records the customer's written opt-in, as the org's web form would through the API. */
  async optIn(phone: string): Promise<void> {
    const answer = await this.call('POST', '/v1/consent', {
      body: { phone, kind: 'opt_in', source: 'web_form', evidence: 'Ticked "text me" on the booking form' },
    });
    if (answer.status !== 201) throw new Error(`opt-in of ${phone} failed: ${JSON.stringify(answer.json)}`);
  }

  /** The customer types `text` on their phone in the simulator (/sandbox/phone) and sends it. */
  async textFromCustomer(phone: string, text: string): Promise<void> {
    const answer = await this.call('POST', '/sandbox/phone/api/send', {
      token: null,
      body: { handset: phone, service: SENDER, text },
    });
    const relayStatus = (answer.json as { relayStatus?: number } | null)?.relayStatus;
    if (answer.status !== 202 || relayStatus !== 200)
      throw new Error(
        `simulated reply from ${phone} failed: ${answer.status} ${JSON.stringify(answer.json)}`,
      );
  }

  /** The consent status the relay holds for a number (GET /v1/consent/:phone). */
  async consentStatus(phone: string): Promise<string> {
    const answer = await this.call('GET', `/v1/consent/${encodeURIComponent(phone)}`);
    return String((answer.json as { status?: unknown }).status);
  }

  /** Every message of the org to or from `phone`, as the relay's API lists them, oldest first. */
  async messagesWith(phone: string): Promise<RelayMessage[]> {
    const list = await this.call('GET', `/v1/conversations?phone=${encodeURIComponent(phone)}`);
    const conversations = (list.json as { conversations: { id: string }[] }).conversations;
    const messages: RelayMessage[] = [];
    for (const conversation of conversations) {
      const page = await this.call('GET', `/v1/conversations/${conversation.id}/messages?limit=100`);
      messages.push(...(page.json as { messages: RelayMessage[] }).messages);
    }
    return messages.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async close(): Promise<void> {
    try {
      await this.relay.close();
      await this.relay.db.close();
      await Promise.all([this.hubspot.close(), this.salesforce.close()]);
    } finally {
      this.restoreHome();
    }
  }
}

/** A message as GET /v1/conversations/:id/messages returns it (the fields these tests read). */
export interface RelayMessage {
  id: string;
  conversationId: string;
  direction: 'inbound' | 'outbound';
  body: string;
  status: string;
  createdAt: string;
}

function isolateHome(): () => void {
  const previous = { home: process.env.HOME, log: process.env.SF_DISABLE_LOG_FILE };
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'panel-e2e-home-'));
  process.env.HOME = home;
  process.env.SF_DISABLE_LOG_FILE = 'true';
  return () => {
    fs.rmSync(home, { recursive: true, force: true });
    if (previous.home === undefined) delete process.env.HOME;
    else process.env.HOME = previous.home;
    if (previous.log === undefined) delete process.env.SF_DISABLE_LOG_FILE;
    else process.env.SF_DISABLE_LOG_FILE = previous.log;
  };
}
