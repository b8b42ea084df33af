import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { inflateRawSync } from 'node:zlib';
import { signAssertion } from '../helpers/saml-signing.ts';
import { selfSignedCert } from './extension-harness.ts';

/** The entity id the tiny IdP signs its assertions as. */
export const IDP_ENTITY = 'https://idp.example.test/metadata';

/**
 * A tiny identity provider for browser tests: it answers the relay's AuthnRequest with an
 * auto-submitted form carrying a signed assertion for `email` (as a real IdP's POST binding does);
 * "hold" leaves the person on its sign-in page. It serves https (the relay requires it of an IdP),
 * with a fresh self-signed key the browser is told to ignore.
 */
export class TinyIdp {
  mode: 'auto-post' | 'hold' = 'auto-post';
  /** Who the person at the IdP is (the assertion's NameID). */
  email: string;
  private server: Server | null = null;
  private port = 0;

  private constructor(
    readonly key: string,
    /** The IdP's signing certificate (PEM), as its metadata publishes it. */
    readonly cert: string,
    private readonly relayUrl: string,
    private readonly orgId: string,
    email: string,
    /** The clock the assertion's validity is written with: the relay's, so both agree. */
    private readonly now: () => Date,
  ) {
    this.email = email;
  }

  /** Makes a key pair and starts listening on a free port. */
  static async start(options: {
    relayUrl: string;
    orgId: string;
    email: string;
    now?: () => Date;
  }): Promise<TinyIdp> {
    const pair = await selfSignedCert();
    await pair.cleanup();
    const idp = new TinyIdp(
      pair.key.toString('utf8'),
      pair.cert.toString('utf8'),
      options.relayUrl,
      options.orgId,
      options.email,
      options.now ?? (() => new Date()),
    );
    await idp.listen();
    return idp;
  }

  /** Where the relay sends people to sign in (the IdP's HTTP-Redirect endpoint). */
  get ssoUrl(): string {
    return `https://127.0.0.1:${this.port}/sso`;
  }

  /** The IdP's metadata XML, as an admin downloads it from their IdP. */
  metadataXml(): string {
    const body = this.cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
    return (
      '<?xml version="1.0"?>' +
      `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${IDP_ENTITY}">` +
      '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">' +
      '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">' +
      `<ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
      `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${this.ssoUrl}"/>` +
      '</md:IDPSSODescriptor></md:EntityDescriptor>'
    );
  }

  close(): Promise<void> {
    const server = this.server;
    if (server === null) return Promise.resolve();
    return new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }

  private listen(): Promise<void> {
    const server = createServer({ key: this.key, cert: this.cert }, (req, res) => {
      const url = new URL(req.url ?? '/', 'http://idp');
      const samlRequest = url.pathname === '/sso' ? url.searchParams.get('SAMLRequest') : null;
      // Anything else (the browser's favicon request, say) is not a sign-in.
      const request = samlRequest ? inflateRawSync(Buffer.from(samlRequest, 'base64')).toString() : '';
      const requestId = /\sID="([^"]+)"/.exec(request)?.[1];
      if (requestId === undefined) {
        res.writeHead(400).end('bad request');
        return;
      }
      if (this.mode === 'hold') {
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<!doctype html><p>Sign in to Example IdP</p>');
        return;
      }
      const response = Buffer.from(this.signedResponse(requestId), 'utf8').toString('base64');
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          `<!doctype html><html><body><form method="post" action="${this.acs}">` +
            `<input type="hidden" name="SAMLResponse" value="${response}"></form>` +
            '<script>document.forms[0].submit()</script></body></html>',
        );
    });
    this.server = server;
    return new Promise((resolve) =>
      server.listen(0, '127.0.0.1', () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      }),
    );
  }

  private get acs(): string {
    return `${this.relayUrl}/v1/sso/saml/${this.orgId}/acs`;
  }

  private signedResponse(requestId: string): string {
    const now = this.now();
    const iso = (ms: number) => new Date(now.getTime() + ms).toISOString();
    const assertion =
      `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a${randomUUID()}" Version="2.0" IssueInstant="${iso(0)}">` +
      `<saml:Issuer>${IDP_ENTITY}</saml:Issuer>` +
      `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${this.email}</saml:NameID>` +
      `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="${requestId}" NotOnOrAfter="${iso(300_000)}" Recipient="${this.acs}"/></saml:SubjectConfirmation></saml:Subject>` +
      `<saml:Conditions NotBefore="${iso(-60_000)}" NotOnOrAfter="${iso(300_000)}"><saml:AudienceRestriction><saml:Audience>${this.relayUrl}/v1/sso/saml/${this.orgId}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
      `<saml:AuthnStatement AuthnInstant="${iso(0)}" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
      '</saml:Assertion>';
    const xml =
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${randomUUID()}" Version="2.0" IssueInstant="${iso(0)}" Destination="${this.acs}" InResponseTo="${requestId}">` +
      `<saml:Issuer>${IDP_ENTITY}</saml:Issuer>` +
      '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
      assertion +
      '</samlp:Response>';
    return signAssertion(xml, this.key);
  }
}
