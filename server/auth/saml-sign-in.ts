import type { Database } from '../db/database.ts';
import { ApiError } from '../errors.ts';
import { accountForAssertion, consumeSamlCode, issueSamlCode } from './saml-accounts.ts';
import { consumeAssertion, verifyResponse } from './saml-assertion.ts';
import type { SamlReturn } from './saml-request.ts';
import type { SamlSettingsRow } from './saml-settings.ts';
import { afterFirstFactor, recordSignInFailed, type SignInContext, type SignInStep } from './sign-in.ts';
import { issueSsoLinkRequest } from './sso-link-requests.ts';

/** What an assertion at the ACS leads to. */
export type AcsOutcome =
  /** An API client: signed in, or asked for the second factor, at once. */
  | { kind: 'signed_in'; step: SignInStep }
  /** A browser: a one-time code to hand the extension through the redirect's fragment. */
  | { kind: 'code'; code: string; clientState: string | null; returnTo: SamlReturn }
  /** The account has a credential of its own and is not linked yet: a token to link it. */
  | { kind: 'not_linked'; linkToken: string; clientState: string | null; returnTo: SamlReturn };

/**
 * Consumes a SAMLResponse at the ACS: verified, used once, its account found or provisioned. A
 * browser gets a one-time code; an API client signs in like after a password. Every refusal is
 * audited as sign_in_failed before it is thrown.
 */
export async function consumeSamlResponse(
  db: Database,
  input: { settings: SamlSettingsRow; publicUrl: string; samlResponse: string; browser: boolean },
  ctx: SignInContext,
): Promise<AcsOutcome> {
  const { settings, browser } = input;
  const { now } = ctx;
  try {
    const verified = await verifyResponse(settings, input.publicUrl, input.samlResponse, now);
    return await db.transaction(async (tx): Promise<AcsOutcome> => {
      const { clientState, returnTo } = await consumeAssertion(tx, settings.org_id, verified, now);
      const account = await accountForAssertion(tx, settings, verified, now);
      if (account.kind === 'not_linked') {
        // The assertion stays used; the holder may link the account to its subject instead.
        const linkToken = await issueSsoLinkRequest(
          tx,
          {
            orgId: settings.org_id,
            userId: account.user.id,
            idpEntityId: settings.idp_entity_id,
            nameId: verified.nameId,
          },
          now,
        );
        return { kind: 'not_linked', linkToken, clientState, returnTo };
      }
      if (browser)
        return { kind: 'code', code: await issueSamlCode(tx, account.user, now), clientState, returnTo };
      return {
        kind: 'signed_in',
        step: await afterFirstFactor(tx, account.user, { ...ctx, method: 'saml' }),
      };
    });
  } catch (error) {
    if (error instanceof ApiError) await recordSamlFailure(db, settings.org_id, error.code, ctx);
    throw error;
  }
}

/** Audits a refused SSO sign-in (sign_in_failed, method saml) with the refusal's code. */
export async function recordSamlFailure(
  db: Database,
  orgId: string,
  code: string,
  ctx: SignInContext,
): Promise<void> {
  await recordSignInFailed(db, {
    orgId,
    userId: null,
    detail: { method: 'saml', code },
    ip: ctx.ip,
    now: ctx.now,
  });
}

/** Trades a browser's one-time code for the sign-in an API client gets at the ACS; null when unusable. */
export async function exchangeSamlCode(
  db: Database,
  code: string,
  ctx: SignInContext,
): Promise<{ step: SignInStep; email: string } | null> {
  return db.transaction(async (tx) => {
    const user = await consumeSamlCode(tx, code, ctx.now);
    if (user === null) return null;
    return { step: await afterFirstFactor(tx, user, { ...ctx, method: 'saml' }), email: user.email };
  });
}
