import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECENT_AUTH_MS } from '../../server/auth/recent-auth.ts';
import { totpCode } from '../../server/auth/totp.ts';
import { createUser, deactivateUser } from '../../server/auth/users.ts';
import { freshPglite } from '../helpers/db.ts';
import { seedOrg, type TestOrg, type TestRelay, testRelay } from '../helpers/relay.ts';
import { signAssertion } from '../helpers/saml-signing.ts';

/**
 * SAML 2.0 SSO against an IdP made inside the test: an openssl key pair and self-signed
 * certificate, responses whose Assertion is signed with xml-crypto (exclusive c14n, rsa-sha256).
 * The relay's clock is fixed far from real time, so every time check uses Deps.clock.
 */

let now = new Date('2031-05-04T10:00:00Z');
const clock = () => now;
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

const IDP_ENTITY = 'https://idp.example.test/metadata';
const IDP_SSO = 'https://idp.example.test/sso';
const PASSWORD = 'correct horse battery staple';

const db = await freshPglite();
let relay: TestRelay;
let org: TestOrg;
let other: TestOrg;
let idpKey: string;
let idpCertBody: string;
let attackerKey: string;
let attackerCertBody: string;

/** A throwaway RSA key and self-signed certificate made with openssl. */
function readPair(dir: string, name: string, keyFile: string, certFile: string) {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore', cwd: dir },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
}

const certBody = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');

const metadataXml = (cert: string) => `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${IDP_ENTITY}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${IDP_SSO}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;

const spEntity = (orgId: string) => `http://relay.test/v1/sso/saml/${orgId}`;
const acs = (orgId: string) => `${spEntity(orgId)}/acs`;

interface AssertionInput {
  orgId: string;
  requestId: string;
  email: string;
  id?: string;
  audience?: string;
  recipient?: string;
  lifetimeMs?: number;
  emailAttribute?: string;
  issuer?: string;
}

function assertionXml(a: AssertionInput): string {
  const issued = now.toISOString();
  const notBefore = new Date(now.getTime() - 60_000).toISOString();
  const until = new Date(now.getTime() + (a.lifetimeMs ?? 5 * 60_000)).toISOString();
  const attribute =
    a.emailAttribute === undefined
      ? ''
      : `<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>${a.emailAttribute}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`;
  return (
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${a.id ?? `_a${randomUUID()}`}" Version="2.0" IssueInstant="${issued}">` +
    `<saml:Issuer>${a.issuer ?? IDP_ENTITY}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${a.email}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="${a.requestId}" NotOnOrAfter="${until}" Recipient="${a.recipient ?? acs(a.orgId)}"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${until}"><saml:AudienceRestriction><saml:Audience>${a.audience ?? spEntity(a.orgId)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${issued}" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    attribute +
    `</saml:Assertion>`
  );
}

function responseXml(a: AssertionInput, assertions: string): string {
  return (
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${randomUUID()}" Version="2.0" IssueInstant="${now.toISOString()}" Destination="${acs(a.orgId)}" InResponseTo="${a.requestId}">` +
    `<saml:Issuer>${IDP_ENTITY}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    assertions +
    `</samlp:Response>`
  );
}

function signedResponse(a: AssertionInput, key = idpKey): string {
  return signAssertion(responseXml(a, assertionXml(a)), key);
}

/** Starts an SP-initiated login and returns the AuthnRequest id the relay issued. */
async function startLogin(orgId = org.orgId, state?: string, returnTo?: 'console'): Promise<string> {
  const params = new URLSearchParams({
    ...(state === undefined ? {} : { state }),
    ...(returnTo === undefined ? {} : { return: returnTo }),
  });
  const query = params.size === 0 ? '' : `?${params}`;
  const response = await relay.app.inject({ method: 'GET', url: `/v1/sso/saml/${orgId}/login${query}` });
  expect(response.statusCode, response.body).toBe(302);
  const location = new URL(String(response.headers.location));
  expect(`${location.origin}${location.pathname}`).toBe(IDP_SSO);
  const request = inflateRawSync(
    Buffer.from(location.searchParams.get('SAMLRequest') ?? '', 'base64'),
  ).toString('utf8');
  expect(request).toContain(`AssertionConsumerServiceURL="${acs(orgId)}"`);
  const id = /\sID="([^"]+)"/.exec(request)?.[1];
  expect(id).toBeDefined();
  return id as string;
}

const postAcs = (xml: string, orgId = org.orgId) =>
  relay.app.inject({
    method: 'POST',
    url: `/v1/sso/saml/${orgId}/acs`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ SAMLResponse: Buffer.from(xml, 'utf8').toString('base64') }).toString(),
  });

const errorCode = (response: { json(): unknown }) =>
  (response.json() as { error?: { code?: string } }).error?.code;

/** A signed-in person of an org, with the refresh token that keeps their session going. */
interface Person {
  id: string;
  email: string;
  headers: { authorization: string };
  refreshToken: string;
}

/** The owner session of each org, which configures its SSO. */
const owners = new Map<string, Person>();

async function addUser(target: TestOrg, email: string, role = 'rep', password: string | null = PASSWORD) {
  const { user } = await createUser(db, {
    orgId: target.orgId,
    email,
    role,
    password,
    actor: 'test',
    now,
    publicUrl: 'http://relay.test',
  });
  return user;
}

/** A user of the given role, freshly signed in with their password. */
async function person(target: TestOrg, email: string, role = 'rep'): Promise<Person> {
  const user = await addUser(target, email, role);
  const response = await relay.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password: PASSWORD },
  });
  expect(response.statusCode, response.body).toBe(201);
  const tokens = response.json() as { accessToken: string; refreshToken: string };
  return {
    id: user.id,
    email,
    headers: { authorization: `Bearer ${tokens.accessToken}` },
    refreshToken: tokens.refreshToken,
  };
}

/** Keeps a person's session alive (refresh) and proves their password again (re-authentication). */
async function reauthenticated(p: Person): Promise<Person> {
  const refreshed = await relay.app.inject({
    method: 'POST',
    url: '/v1/auth/refresh',
    payload: { refreshToken: p.refreshToken },
  });
  expect(refreshed.statusCode, refreshed.body).toBe(200);
  const tokens = refreshed.json() as { accessToken: string; refreshToken: string };
  p.headers = { authorization: `Bearer ${tokens.accessToken}` };
  p.refreshToken = tokens.refreshToken;
  const reauth = await relay.app.inject({
    method: 'POST',
    url: '/v1/auth/reauth',
    headers: p.headers,
    payload: { password: PASSWORD },
  });
  expect(reauth.statusCode, reauth.body).toBe(200);
  return p;
}

const putSettings = (headers: { authorization: string }, body: Record<string, unknown>) =>
  relay.app.inject({ method: 'PUT', url: '/v1/sso/saml', headers, payload: body });

/** Configures an org's SSO the way it must be done: by its owner, just re-authenticated. */
async function configure(target: TestOrg, body: Record<string, unknown>) {
  const owner = owners.get(target.orgId);
  if (owner === undefined) throw new Error('no owner signed in for this org');
  const response = await putSettings((await reauthenticated(owner)).headers, body);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Record<string, unknown>;
}

let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'saml-idp-'));
  const idp = readPair(tmp, 'idp', path.join(tmp, 'idp.key'), path.join(tmp, 'idp.crt'));
  idpKey = idp.key;
  idpCertBody = certBody(idp.cert);
  const attacker = readPair(tmp, 'attacker', path.join(tmp, 'a.key'), path.join(tmp, 'a.crt'));
  attackerKey = attacker.key;
  attackerCertBody = certBody(attacker.cert);
  relay = await testRelay(db, { clock });
  org = await seedOrg(db);
  other = await seedOrg(db, { name: 'Other Dental', sender: '+12025550101' });
  owners.set(org.orgId, await person(org, 'owner@acme.example', 'owner'));
  owners.set(other.orgId, await person(other, 'owner@other.example', 'owner'));
  await configure(org, { metadataXml: metadataXml(idpCertBody), defaultRole: 'rep' });
});

afterAll(async () => {
  await relay.close();
  await db.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('SAML settings', () => {
  it('reads entity id, SSO URL and signing certificate from the uploaded IdP metadata', async () => {
    const response = await relay.app.inject({ method: 'GET', url: '/v1/sso/saml', headers: org.auth });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      configured: true,
      idpEntityId: IDP_ENTITY,
      ssoUrl: IDP_SSO,
      defaultRole: 'rep',
      ssoOnly: false,
      spEntityId: spEntity(org.orgId),
      acsUrl: acs(org.orgId),
    });
    const unconfigured = await relay.app.inject({ method: 'GET', url: '/v1/sso/saml', headers: other.auth });
    // Before any IdP is set the admin still learns what to give the IdP: this org's entity id and ACS.
    expect(unconfigured.json()).toEqual({
      configured: false,
      spEntityId: spEntity(other.orgId),
      acsUrl: acs(other.orgId),
      loginUrl: `${spEntity(other.orgId)}/login`,
    });
  });

  it('refuses metadata without a usable certificate and unknown default roles', async () => {
    const owner = await reauthenticated(owners.get(other.orgId) as Person);
    const bad = await putSettings(owner.headers, {
      metadataXml: metadataXml('bm90IGEgY2VydA=='),
      defaultRole: 'rep',
    });
    expect(bad.statusCode).toBe(422);
    const role = await putSettings(owner.headers, {
      metadataXml: metadataXml(idpCertBody),
      defaultRole: 'nope',
    });
    expect(role.statusCode).toBe(422);
    expect(errorCode(role)).toBe('UNKNOWN_ROLE');
  });

  it('answers 404 for a login at an org without SAML', async () => {
    const response = await relay.app.inject({ method: 'GET', url: `/v1/sso/saml/${randomUUID()}/login` });
    expect(response.statusCode).toBe(404);
    expect(errorCode(response)).toBe('SSO_NOT_CONFIGURED');
  });
});

describe('SAML sign-in', () => {
  it('signs an existing user without credentials (invited) in, linking their NameID; the session works', async () => {
    // No password and no second factor yet: nothing to take over, so the first assertion links it.
    const user = await addUser(org, 'jane@example.com', 'rep', null);
    const requestId = await startLogin();
    const response = await postAcs(
      signedResponse({
        orgId: org.orgId,
        requestId,
        email: 'jane@example.com',
        emailAttribute: 'Jane@Example.com',
      }),
    );
    expect(response.statusCode, response.body).toBe(201);
    const tokens = response.json() as { accessToken: string; refreshToken: string; sessionId: string };
    expect(tokens.accessToken).toMatch(/^cts_/);
    expect(tokens.refreshToken).toMatch(/^ctr_/);
    const me = await relay.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    });
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json()).toMatchObject({ orgId: org.orgId, role: 'rep' });
    const [session] = await db.query<{ user_id: string }>('SELECT user_id FROM auth_sessions WHERE id = $1', [
      tokens.sessionId,
    ]);
    expect(session?.user_id).toBe(user.id);
  });

  it('provisions an unknown user just in time with the default role (email attribute)', async () => {
    const requestId = await startLogin();
    const response = await postAcs(
      signedResponse({
        orgId: org.orgId,
        requestId,
        email: 'opaque-id-123',
        emailAttribute: 'new.rep@example.com',
      }),
    );
    expect(response.statusCode, response.body).toBe(201);
    const [user] = await db.query<{ role: string; status: string; password_hash: string | null }>(
      'SELECT role, status, password_hash FROM users WHERE org_id = $1 AND email = $2',
      [org.orgId, 'new.rep@example.com'],
    );
    expect(user).toMatchObject({ role: 'rep', status: 'active', password_hash: null });
  });

  it('refuses an unsigned assertion', async () => {
    const requestId = await startLogin();
    const a = { orgId: org.orgId, requestId, email: 'jane@example.com' };
    const response = await postAcs(responseXml(a, assertionXml(a)));
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('SAML_RESPONSE_INVALID');
  });

  it('refuses an assertion signed by another key', async () => {
    const requestId = await startLogin();
    const response = await postAcs(
      signedResponse({ orgId: org.orgId, requestId, email: 'jane@example.com' }, attackerKey),
    );
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('SAML_RESPONSE_INVALID');
  });

  it('refuses an assertion for another audience', async () => {
    const requestId = await startLogin();
    const response = await postAcs(
      signedResponse({
        orgId: org.orgId,
        requestId,
        email: 'jane@example.com',
        audience: spEntity(other.orgId),
      }),
    );
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('SAML_RESPONSE_INVALID');
    expect(response.body).toMatch(/audience/i);
  });

  it('refuses an assertion issued by another IdP entity (even signed with the trusted key)', async () => {
    const requestId = await startLogin();
    const response = await postAcs(
      signedResponse({
        orgId: org.orgId,
        requestId,
        email: 'jane@example.com',
        issuer: 'https://other-idp.example.test',
      }),
    );
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('SAML_WRONG_ISSUER');
  });

  it('refuses an assertion for another recipient', async () => {
    const requestId = await startLogin();
    const response = await postAcs(
      signedResponse({
        orgId: org.orgId,
        requestId,
        email: 'jane@example.com',
        recipient: 'https://evil.example/acs',
      }),
    );
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('SAML_WRONG_RECIPIENT');
  });

  it('refuses an expired assertion (by the relay clock, past the skew)', async () => {
    const requestId = await startLogin();
    const xml = signedResponse({
      orgId: org.orgId,
      requestId,
      email: 'jane@example.com',
      lifetimeMs: 60_000,
    });
    advance(4 * 60_000);
    const response = await postAcs(xml);
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('SAML_EXPIRED');
  });

  it('refuses a response that answers no request issued here', async () => {
    const response = await postAcs(
      signedResponse({ orgId: org.orgId, requestId: '_never-issued', email: 'jane@example.com' }),
    );
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('SAML_UNSOLICITED');
  });

  it('refuses the same response twice (replay)', async () => {
    const requestId = await startLogin();
    const xml = signedResponse({ orgId: org.orgId, requestId, email: 'jane@example.com' });
    const first = await postAcs(xml);
    expect(first.statusCode, first.body).toBe(201);
    const second = await postAcs(xml);
    expect(second.statusCode).toBe(401);
    expect(errorCode(second)).toBe('SAML_REPLAYED');
  });

  it('refuses signature wrapping: an injected unsigned assertion beside the signed one', async () => {
    await addUser(org, 'owner.victim@example.com', 'owner');
    const requestId = await startLogin();
    const signed = signedResponse({ orgId: org.orgId, requestId, email: 'jane@example.com' });
    const evil = assertionXml({ orgId: org.orgId, requestId, email: 'owner.victim@example.com' });
    // The injected assertion comes first, the signed one stays intact after it.
    const before = signed.replace('<samlp:Status>', `${evil}<samlp:Status>`);
    const r1 = await postAcs(before);
    expect(r1.statusCode).toBe(401);
    expect(r1.json()).toMatchObject({ error: { message: expect.stringMatching(/multiple assertions/) } });
    // The signed assertion hidden in an extension, the evil one where the assertion belongs.
    const signedAssertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(signed)?.[0] ?? '';
    const hidden = signed
      .replace(signedAssertion, evil)
      .replace('<samlp:Status>', `<samlp:Extensions>${signedAssertion}</samlp:Extensions><samlp:Status>`);
    const r2 = await postAcs(hidden);
    expect(r2.statusCode).toBe(401);
    expect(errorCode(r2)).toBe('SAML_RESPONSE_INVALID');
    const sessions = await db.query(
      `SELECT 1 FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'owner.victim@example.com'`,
    );
    expect(sessions).toHaveLength(0);
  });

  it('refuses a deactivated user', async () => {
    const user = await addUser(org, 'gone@example.com');
    await deactivateUser(db, { orgId: org.orgId, userId: user.id, actor: 'test', now });
    const requestId = await startLogin();
    const response = await postAcs(
      signedResponse({ orgId: org.orgId, requestId, email: 'gone@example.com' }),
    );
    expect(response.statusCode).toBe(403);
    expect(errorCode(response)).toBe('USER_DEACTIVATED');
  });

  it('refuses a response for org A posted to org B', async () => {
    await configure(other, { metadataXml: metadataXml(idpCertBody), defaultRole: 'rep' });
    const requestId = await startLogin();
    const response = await postAcs(
      signedResponse({ orgId: org.orgId, requestId, email: 'jane@example.com' }),
      other.orgId,
    );
    expect(response.statusCode).toBe(401);
    expect(errorCode(response)).toBe('SAML_RESPONSE_INVALID');
  });
});

describe('browser redirect with a one-time code', () => {
  it('redirects a browser to the done page with a code that trades once for a session', async () => {
    const requestId = await startLogin();
    const xml = signedResponse({ orgId: org.orgId, requestId, email: 'jane@example.com' });
    const response = await relay.app.inject({
      method: 'POST',
      url: `/v1/sso/saml/${org.orgId}/acs`,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
      },
      payload: new URLSearchParams({ SAMLResponse: Buffer.from(xml, 'utf8').toString('base64') }).toString(),
    });
    expect(response.statusCode, response.body).toBe(303);
    const location = String(response.headers.location);
    expect(location).toMatch(/^http:\/\/relay\.test\/v1\/sso\/saml\/done#code=/);
    const code = location.split('#code=')[1] ?? '';
    const page = await relay.app.inject({ method: 'GET', url: '/v1/sso/saml/done' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const exchange = () =>
      relay.app.inject({ method: 'POST', url: '/v1/sso/saml/exchange', payload: { code } });
    const first = await exchange();
    expect(first.statusCode, first.body).toBe(201);
    // The exchange names the account: the client learns who signed in only from here.
    expect(first.json()).toMatchObject({
      accessToken: expect.stringMatching(/^cts_/),
      email: 'jane@example.com',
    });
    const again = await exchange();
    expect(again.statusCode).toBe(401);
    expect(errorCode(again)).toBe('INVALID_CODE');
  });
});

describe('client state', () => {
  const browserAcs = (xml: string) =>
    relay.app.inject({
      method: 'POST',
      url: `/v1/sso/saml/${org.orgId}/acs`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: new URLSearchParams({ SAMLResponse: Buffer.from(xml, 'utf8').toString('base64') }).toString(),
    });

  it('hands the starting client’s state back next to the code, from the request it kept', async () => {
    const state = 'ext-attempt-0123456789abcdef';
    const requestId = await startLogin(org.orgId, state);
    const response = await browserAcs(
      signedResponse({ orgId: org.orgId, requestId, email: 'jane@example.com' }),
    );
    expect(response.statusCode, response.body).toBe(303);
    const fragment = new URLSearchParams(String(response.headers.location).split('#')[1]);
    expect(fragment.get('code')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(fragment.get('state')).toBe(state);
  });

  it('refuses a malformed state and adds none when the client gave none', async () => {
    const bad = await relay.app.inject({ method: 'GET', url: `/v1/sso/saml/${org.orgId}/login?state=short` });
    expect(bad.statusCode).toBe(400);
    const requestId = await startLogin();
    const response = await browserAcs(
      signedResponse({ orgId: org.orgId, requestId, email: 'jane@example.com' }),
    );
    expect(String(response.headers.location)).not.toContain('state=');
  });

  it('sends a console sign-in’s code back to the console with its state, and only when the request asked', async () => {
    const state = 'console-0123456789abcdef';
    const requestId = await startLogin(org.orgId, state, 'console');
    const response = await browserAcs(
      signedResponse({ orgId: org.orgId, requestId, email: 'jane@example.com' }),
    );
    expect(response.statusCode, response.body).toBe(303);
    const location = String(response.headers.location);
    expect(location).toMatch(/^http:\/\/relay\.test\/admin#\/sso-return\?code=/);
    const fragment = new URLSearchParams(location.split('?')[1]);
    expect(fragment.get('state')).toBe(state);
    const exchanged = await relay.app.inject({
      method: 'POST',
      url: '/v1/sso/saml/exchange',
      payload: { code: fragment.get('code') },
    });
    expect(exchanged.statusCode, exchanged.body).toBe(201);
  });

  it('refuses a console sign-in without a state (its return could not be checked) and other return targets', async () => {
    const url = `/v1/sso/saml/${org.orgId}/login`;
    const bare = await relay.app.inject({ method: 'GET', url: `${url}?return=console` });
    expect(bare.statusCode).toBe(400);
    expect(bare.json().error.code).toBe('STATE_REQUIRED');
    const elsewhere = await relay.app.inject({
      method: 'GET',
      url: `${url}?state=console-0123456789abcdef&return=https%3A%2F%2Fevil.example`,
    });
    expect(elsewhere.statusCode).toBe(400);
  });
});

describe('ssoOnly', () => {
  it('refuses password sign-in for the org with SSO_REQUIRED, while SAML still works', async () => {
    const pat = await addUser(other, 'pat@example.com');
    const login = () =>
      relay.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email: 'pat@example.com', password: PASSWORD },
      });
    expect((await login()).statusCode).toBe(201);
    await configure(other, { metadataXml: metadataXml(idpCertBody), defaultRole: 'rep', ssoOnly: true });
    const refused = await login();
    expect(refused.statusCode).toBe(403);
    expect(errorCode(refused)).toBe('SSO_REQUIRED');
    // Pat has a password, so the owner links Pat's IdP identity before the IdP may sign Pat in.
    const owner = await reauthenticated(owners.get(other.orgId) as Person);
    const link = await relay.app.inject({
      method: 'POST',
      url: `/v1/users/${pat.id}/sso-link`,
      headers: owner.headers,
      payload: { nameId: 'pat@example.com' },
    });
    expect(link.statusCode, link.body).toBe(200);
    const requestId = await startLogin(other.orgId);
    const response = await postAcs(
      signedResponse({ orgId: other.orgId, requestId, email: 'pat@example.com' }),
      other.orgId,
    );
    expect(response.statusCode, response.body).toBe(201);
    // An update that omits ssoOnly leaves it on.
    const updated = await configure(other, { metadataXml: metadataXml(idpCertBody), defaultRole: 'rep' });
    expect(updated).toMatchObject({ ssoOnly: true });
    expect((await login()).statusCode).toBe(403);
  });
});

describe('SSO takeover (#13, finding 1)', () => {
  const acsFor = async (email: string, extra: Partial<AssertionInput> = {}, target = org) => {
    const requestId = await startLogin(target.orgId);
    return postAcs(signedResponse({ orgId: target.orgId, requestId, email, ...extra }), target.orgId);
  };
  const linkWith = (payload: Record<string, unknown>) =>
    relay.app.inject({ method: 'POST', url: '/v1/sso/saml/link', payload });
  const sessionsOf = (userId: string) => db.query('SELECT 1 FROM auth_sessions WHERE user_id = $1', [userId]);
  const currentCert = async () => {
    const [row] = await db.query<{ idp_cert: string }>(
      'SELECT idp_cert FROM saml_settings WHERE org_id = $1',
      [org.orgId],
    );
    return row?.idp_cert;
  };

  it('refuses SSO configuration to a custom role that holds only org.manage', async () => {
    const owner = await reauthenticated(owners.get(org.orgId) as Person);
    const role = await relay.app.inject({
      method: 'POST',
      url: '/v1/roles',
      headers: owner.headers,
      payload: { name: 'org_manager', permissions: ['org.manage'] },
    });
    expect(role.statusCode, role.body).toBe(201);
    const mallory = await person(org, 'mallory@example.com', 'org_manager');
    const before = await currentCert();
    const response = await putSettings(mallory.headers, {
      metadataXml: metadataXml(attackerCertBody),
      defaultRole: 'rep',
    });
    expect(response.statusCode, response.body).toBe(403);
    expect(response.json()).toMatchObject({
      error: { code: 'FORBIDDEN', details: { permission: 'sso.manage' } },
    });
    expect(await currentCert()).toBe(before);
  });

  it('refuses SSO configuration to an owner API key and to an owner who has not re-authenticated', async () => {
    const before = await currentCert();
    const byKey = await putSettings(org.auth, {
      metadataXml: metadataXml(attackerCertBody),
      defaultRole: 'rep',
    });
    expect(byKey.statusCode, byKey.body).toBe(403);
    expect(errorCode(byKey)).toBe('SESSION_REQUIRED');
    const owner = await person(org, 'second.owner@example.com', 'owner');
    advance(RECENT_AUTH_MS + 1_000);
    const stale = await putSettings(owner.headers, {
      metadataXml: metadataXml(attackerCertBody),
      defaultRole: 'rep',
    });
    expect(stale.statusCode, stale.body).toBe(403);
    expect(errorCode(stale)).toBe('REAUTH_REQUIRED');
    expect(await currentCert()).toBe(before);
    await reauthenticated(owner);
    const fresh = await putSettings(owner.headers, {
      metadataXml: metadataXml(idpCertBody),
      defaultRole: 'rep',
    });
    expect(fresh.statusCode, fresh.body).toBe(200);
    const [event] = await db.query<{ actor: string }>(
      `SELECT actor FROM auth_events WHERE org_id = $1 AND kind = 'sso_configured' ORDER BY occurred_at DESC LIMIT 1`,
      [org.orgId],
    );
    expect(event?.actor).toBe(`user:${owner.id}`);
  });

  it('never signs an assertion into an account with a password before it is linked (the owner included)', async () => {
    const boss = await addUser(org, 'boss@example.com', 'owner');
    const response = await acsFor('boss@example.com');
    expect(response.statusCode, response.body).toBe(403);
    expect(response.json()).toMatchObject({
      error: {
        code: 'SSO_ACCOUNT_NOT_LINKED',
        details: { linkToken: expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/), linkUrl: '/v1/sso/saml/link' },
      },
    });
    expect(await sessionsOf(boss.id)).toHaveLength(0);
  });

  it('tells a browser the account is not linked instead of handing it a sign-in code', async () => {
    const boss = await db.query<{ id: string }>(`SELECT id FROM users WHERE email = 'boss@example.com'`);
    const requestId = await startLogin(org.orgId, 'ext-attempt-boss-0123456789');
    const xml = signedResponse({ orgId: org.orgId, requestId, email: 'boss@example.com' });
    const response = await relay.app.inject({
      method: 'POST',
      url: `/v1/sso/saml/${org.orgId}/acs`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: new URLSearchParams({ SAMLResponse: Buffer.from(xml, 'utf8').toString('base64') }).toString(),
    });
    expect(response.statusCode, response.body).toBe(303);
    const fragment = new URLSearchParams(String(response.headers.location).split('#')[1]);
    expect(fragment.get('code')).toBeNull();
    expect(fragment.get('error')).toBe('SSO_ACCOUNT_NOT_LINKED');
    expect(fragment.get('linkToken')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(fragment.get('state')).toBe('ext-attempt-boss-0123456789');
    expect(await sessionsOf(boss[0]?.id ?? '')).toHaveLength(0);
  });

  it('links an account once its holder proves the password, then signs in only for that NameID', async () => {
    const linda = await addUser(org, 'linda@example.com');
    const refused = await acsFor('linda@example.com');
    expect(errorCode(refused)).toBe('SSO_ACCOUNT_NOT_LINKED');
    const { linkToken } = (refused.json() as { error: { details: { linkToken: string } } }).error.details;
    const wrong = await linkWith({ linkToken, password: 'not the password at all' });
    expect(wrong.statusCode, wrong.body).toBe(401);
    expect(errorCode(wrong)).toBe('INVALID_CREDENTIALS');
    expect(errorCode(await acsFor('linda@example.com'))).toBe('SSO_ACCOUNT_NOT_LINKED');
    const linked = await linkWith({ linkToken, password: PASSWORD });
    expect(linked.statusCode, linked.body).toBe(200);
    expect(linked.json()).toMatchObject({ linked: true, email: 'linda@example.com' });
    const again = await linkWith({ linkToken, password: PASSWORD });
    expect(again.statusCode).toBe(401);
    expect(errorCode(again)).toBe('INVALID_LINK_TOKEN');
    const [event] = await db.query<{ actor: string; detail: Record<string, unknown> }>(
      `SELECT actor, detail FROM auth_events WHERE user_id = $1 AND kind = 'sso_linked'`,
      [linda.id],
    );
    expect(event).toMatchObject({ actor: `user:${linda.id}`, detail: { nameId: 'linda@example.com' } });
    const signedIn = await acsFor('linda@example.com');
    expect(signedIn.statusCode, signedIn.body).toBe(201);
    // Another IdP subject claiming Linda's email is not Linda.
    const impostor = await acsFor('someone-else', { emailAttribute: 'linda@example.com' });
    expect(impostor.statusCode, impostor.body).toBe(403);
    expect(errorCode(impostor)).toBe('SSO_ACCOUNT_NOT_LINKED');
  });

  it('lets an owner link an account (audited), but not an admin', async () => {
    const olga = await addUser(org, 'olga@example.com');
    const link = (headers: { authorization: string }) =>
      relay.app.inject({
        method: 'POST',
        url: `/v1/users/${olga.id}/sso-link`,
        headers,
        payload: { nameId: 'olga@example.com' },
      });
    const admin = await person(org, 'admin@example.com', 'admin');
    const byAdmin = await link(admin.headers);
    expect(byAdmin.statusCode, byAdmin.body).toBe(403);
    expect(byAdmin.json()).toMatchObject({
      error: { code: 'FORBIDDEN', details: { permission: 'sso.manage' } },
    });
    expect(errorCode(await acsFor('olga@example.com'))).toBe('SSO_ACCOUNT_NOT_LINKED');
    const owner = await reauthenticated(owners.get(org.orgId) as Person);
    const byOwner = await link(owner.headers);
    expect(byOwner.statusCode, byOwner.body).toBe(200);
    const [event] = await db.query<{ actor: string }>(
      `SELECT actor FROM auth_events WHERE user_id = $1 AND kind = 'sso_linked'`,
      [olga.id],
    );
    expect(event?.actor).toBe(`user:${owner.id}`);
    expect((await acsFor('olga@example.com')).statusCode).toBe(201);
  });

  it('asks a user with an authenticator app for it after the assertion, like a password sign-in', async () => {
    const tess = await person(org, 'tess@example.com');
    const enrol = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/totp/enrol',
      headers: tess.headers,
    });
    const { secret } = enrol.json() as { secret: string };
    const confirm = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/totp/confirm',
      headers: tess.headers,
      payload: { code: totpCode(secret, now) },
    });
    expect(confirm.statusCode, confirm.body).toBe(200);
    advance(30_000);
    const refused = await acsFor('tess@example.com');
    expect(errorCode(refused)).toBe('SSO_ACCOUNT_NOT_LINKED');
    const { linkToken } = (refused.json() as { error: { details: { linkToken: string } } }).error.details;
    // The password alone is less than Tess signs in with: the authenticator code is asked too.
    const passwordOnly = await linkWith({ linkToken, password: PASSWORD });
    expect(passwordOnly.statusCode, passwordOnly.body).toBe(400);
    expect(errorCode(passwordOnly)).toBe('CODE_REQUIRED');
    const linked = await linkWith({ linkToken, password: PASSWORD, code: totpCode(secret, now) });
    expect(linked.statusCode, linked.body).toBe(200);
    advance(30_000);
    const before = (await sessionsOf(tess.id)).length;
    const step = await acsFor('tess@example.com');
    expect(step.statusCode, step.body).toBe(200);
    const body = step.json() as { mfaRequired?: boolean; mfaToken?: string; accessToken?: string };
    expect(body).toMatchObject({ mfaRequired: true, factors: ['totp'] });
    expect(body.accessToken).toBeUndefined();
    expect(await sessionsOf(tess.id)).toHaveLength(before);
    const mfa = await relay.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken: body.mfaToken, code: totpCode(secret, now) },
    });
    expect(mfa.statusCode, mfa.body).toBe(201);
    expect(mfa.json()).toMatchObject({ accessToken: expect.stringMatching(/^cts_/) });
    // The browser path: the one-time code trades for the same second step, not a session.
    advance(30_000);
    const requestId = await startLogin();
    const xml = signedResponse({ orgId: org.orgId, requestId, email: 'tess@example.com' });
    const redirect = await relay.app.inject({
      method: 'POST',
      url: `/v1/sso/saml/${org.orgId}/acs`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      payload: new URLSearchParams({ SAMLResponse: Buffer.from(xml, 'utf8').toString('base64') }).toString(),
    });
    const code = new URLSearchParams(String(redirect.headers.location).split('#')[1]).get('code');
    const exchange = await relay.app.inject({
      method: 'POST',
      url: '/v1/sso/saml/exchange',
      payload: { code },
    });
    expect(exchange.statusCode, exchange.body).toBe(200);
    expect(exchange.json()).toMatchObject({
      mfaRequired: true,
      factors: ['totp'],
      email: 'tess@example.com',
    });
    expect(exchange.json().accessToken).toBeUndefined();
  });

  it('applies the org’s second-factor requirement to SSO sign-ins', async () => {
    const strict = await seedOrg(db, { name: 'Strict Dental', sender: '+12025550102' });
    owners.set(strict.orgId, await person(strict, 'owner@strict.example', 'owner'));
    await configure(strict, { metadataXml: metadataXml(idpCertBody), defaultRole: 'rep' });
    await db.query(`UPDATE orgs SET settings = $2 WHERE id = $1`, [
      strict.orgId,
      JSON.stringify({ auth: { requireSecondFactor: true } }),
    ]);
    const response = await acsFor('newcomer@strict.example', {}, strict);
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ secondFactorEnrolmentRequired: true });
    const me = await relay.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${(response.json() as { accessToken: string }).accessToken}` },
    });
    expect(me.statusCode).toBe(403);
    expect(errorCode(me)).toBe('SECOND_FACTOR_ENROLMENT_REQUIRED');
  });

  it('refuses a non-https IdP sign-in URL and never redirects a login to one', async () => {
    const owner = await reauthenticated(owners.get(other.orgId) as Person);
    const fields = await putSettings(owner.headers, {
      idpEntityId: IDP_ENTITY,
      ssoUrl: 'http://evil.example/sso',
      idpCertificate: idpCertBody,
      defaultRole: 'rep',
    });
    expect(fields.statusCode, fields.body).toBe(422);
    expect(errorCode(fields)).toBe('INVALID_SSO_URL');
    const metadata = await putSettings(owner.headers, {
      metadataXml: metadataXml(idpCertBody).replace(IDP_SSO, 'http://evil.example/sso'),
      defaultRole: 'rep',
    });
    expect(metadata.statusCode, metadata.body).toBe(422);
    expect(errorCode(metadata)).toBe('INVALID_SSO_URL');
    // A setting stored before this rule: the login refuses rather than redirect to it.
    await db.query(`UPDATE saml_settings SET sso_url = 'http://evil.example/sso' WHERE org_id = $1`, [
      other.orgId,
    ]);
    const login = await relay.app.inject({ method: 'GET', url: `/v1/sso/saml/${other.orgId}/login` });
    expect(login.statusCode, login.body).toBe(409);
    expect(errorCode(login)).toBe('INVALID_SSO_URL');
    expect(login.headers.location).toBeUndefined();
  });
});
