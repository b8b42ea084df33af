import type { FastifyReply } from 'fastify';
import { type Static, Type } from 'typebox';
import { pageAnswers as pageRefusals, Redirect } from '../../contract/pages.ts';
import { passwordChangedNotice } from '../auth/factor-revocation.ts';
import { linkHolder, needsSecondFactor } from '../auth/joining.ts';
import { resetPassword, verifyEmail } from '../auth/password-reset.ts';
import { MAX_PASSWORD_LENGTH, PASSWORD_MESSAGES, passwordProblem } from '../auth/passwords.ts';
import { beginTotpEnrolment } from '../auth/totp-enrolment.ts';
import type { TotpSecrets } from '../auth/totp-secrets.ts';
import { issueLink } from '../auth/users.ts';
import { publicRoute } from '../http/access.ts';
import { html, sendPage } from '../http/html.ts';
import type { Deps, RouteModule } from '../http/services.ts';
import { deliver } from '../mail/select.ts';
import { enrolmentPage, type PasswordFormState, passwordForm } from './auth-page-views.ts';
import { secondFactorPageRoutes } from './auth-second-factor-page.ts';

const tags = ['auth'];
const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })) });
const PasswordForm = Type.Object({
  token: Type.String({ maxLength: 200 }),
  password: Type.String({ maxLength: MAX_PASSWORD_LENGTH * 4 }),
  confirm: Type.String({ maxLength: MAX_PASSWORD_LENGTH * 4 }),
});
const VerifyForm = Type.Object({ token: Type.String({ maxLength: 200 }) });
const pageAnswers = { ...pageRefusals, 303: Redirect };

/** A page saying a mailed link cannot be used, and what to do instead. */
export function linkNotValidPage(reply: FastifyReply) {
  return sendPage(
    reply,
    'Link not valid',
    html`<h1>This link cannot be used</h1>
      <p>It is unknown, already used or expired (invitation and reset links last an hour).</p>
      <p>Ask your administrator for a new invitation, or choose <strong>Forgot password</strong> when you sign in
      from the extension to get a new reset link.</p>`,
    { status: 400 },
  );
}

/**
 * The pages behind the links the relay mails: accepting an invitation or resetting a password
 * (/auth/reset), proving an address (/auth/verify). A GET only shows a form, so a mail scanner
 * that follows links uses nothing up; the POST uses the link.
 */
export const authPageRoutes =
  (totpSecrets: TotpSecrets): RouteModule =>
  (app, deps) => {
    app.get(
      '/auth/reset',
      {
        config: publicRoute(
          'the page of a mailed invitation or reset link; the link token is the credential',
        ),
        schema: {
          summary: 'Accept an invitation or reset a password (page)',
          tags,
          querystring: TokenQuery,
          response: pageAnswers,
        },
      },
      async (request, reply) => {
        const token = request.query.token ?? '';
        const holder = await linkHolder(deps.db, 'reset_password', token, deps.clock());
        if (holder === null) return linkNotValidPage(reply);
        return passwordForm(reply, { token, ...holder, problem: null });
      },
    );
    app.post(
      '/auth/reset',
      {
        config: {
          ...publicRoute('completing an invitation or reset from its page; the link token is the credential'),
          formBody: 'the invitation and reset page is a plain HTML form',
        },
        schema: {
          summary: 'Choose a password from an invitation or reset link',
          tags,
          body: PasswordForm,
          response: pageAnswers,
        },
      },
      (request, reply) => choosePassword(deps, totpSecrets, request.body, request.ip, reply),
    );
    verifyPageRoutes(app, deps);
    secondFactorPageRoutes(totpSecrets)(app, deps);
    app.get(
      '/auth/done',
      {
        config: publicRoute('a static confirmation page after a mailed link was used'),
        schema: {
          summary: 'Confirmation after a mailed link was used (page)',
          tags,
          querystring: Type.Object({ step: Type.Optional(Type.String({ maxLength: 20 })) }),
          response: pageRefusals,
        },
      },
      async (request, reply) => donePage(reply, request.query.step ?? '', deps.config.publicUrl),
    );
  };

/** Checks the form before the link is used, so a refused password leaves the link working. */
async function choosePassword(
  { db, clock, mail }: Deps,
  totpSecrets: TotpSecrets,
  body: Static<typeof PasswordForm>,
  ip: string,
  reply: FastifyReply,
) {
  const now = clock();
  const holder = await linkHolder(db, 'reset_password', body.token, now);
  if (holder === null) return linkNotValidPage(reply);
  const state: PasswordFormState = { token: body.token, ...holder, problem: null };
  if (body.password !== body.confirm)
    return passwordForm(
      reply,
      {
        ...state,
        problem: { field: 'confirm', message: 'The two passwords differ; type the same password twice.' },
      },
      422,
    );
  const problem = passwordProblem(body.password, { email: holder.user.email });
  if (problem !== null)
    return passwordForm(
      reply,
      { ...state, problem: { field: 'password', message: PASSWORD_MESSAGES[problem] } },
      422,
    );
  const invited = holder.user.password_hash === null;
  const { user, removed } = await db.transaction((tx) =>
    resetPassword(tx, { token: body.token, password: body.password, ip }, now),
  );
  if (!invited)
    await deliver(mail, passwordChangedNotice(user.email, removed, now), reply.log, {
      userId: user.id,
      kind: 'password_changed_notice',
    });
  if (await needsSecondFactor(db, user)) {
    const enrolment = await beginTotpEnrolment(db, totpSecrets, user.id);
    const stepToken = await issueLink(db, 'mfa', user.id, now);
    return enrolmentPage(reply, { stepToken, email: user.email, ...enrolment, problem: null });
  }
  return reply.redirect(`/auth/done?step=${invited ? 'joined' : 'reset'}`, 303);
}

const verifyPageRoutes: RouteModule = (app, { db, clock }) => {
  app.get(
    '/auth/verify',
    {
      config: publicRoute('the page of a mailed address-confirmation link; the link token is the credential'),
      schema: {
        summary: 'Confirm an email address (page)',
        tags,
        querystring: TokenQuery,
        response: pageAnswers,
      },
    },
    async (request, reply) => {
      const token = request.query.token ?? '';
      const holder = await linkHolder(db, 'verify_email', token, clock());
      if (holder === null) return linkNotValidPage(reply);
      return sendPage(
        reply,
        'Confirm your address',
        html`<h1>Confirm your address</h1>
          <p>Confirm that <strong>${holder.user.email}</strong> is your address for ${holder.orgName} on CRM Texting.</p>
          <form method="post" action="/auth/verify">
            <input type="hidden" name="token" value="${token}">
            <button type="submit">Confirm my address</button>
          </form>`,
      );
    },
  );
  app.post(
    '/auth/verify',
    {
      config: {
        ...publicRoute('confirming an address from its page; the link token is the credential'),
        formBody: 'the address-confirmation page is a plain HTML form',
      },
      schema: {
        summary: 'Confirm an email address from its page',
        tags,
        body: VerifyForm,
        response: pageAnswers,
      },
    },
    async (request, reply) => {
      const now = clock();
      if ((await linkHolder(db, 'verify_email', request.body.token, now)) === null)
        return linkNotValidPage(reply);
      await verifyEmail(db, request.body.token, now);
      return reply.redirect('/auth/done?step=verified', 303);
    },
  );
};

const DONE: Record<string, { title: string; text: string }> = {
  joined: {
    title: 'Welcome to CRM Texting',
    text: 'Your password is set. Open the extension’s options, sign in with your email and this password, and the texting panel appears on your CRM’s contact pages.',
  },
  reset: {
    title: 'Password changed',
    text: 'Your new password is set and every earlier session is signed out. Sign in again from the extension.',
  },
  enrolled: {
    title: 'You are all set',
    text: 'Your password and authenticator app are set. Sign in from the extension’s options with your email, your password and a code from the app.',
  },
  verified: {
    title: 'Address confirmed',
    text: 'Thank you: your email address is confirmed. You can close this tab.',
  },
};

/** The confirmation; where the next step is a sign-in, it names the relay URL the extension asks for. */
function donePage(reply: FastifyReply, step: string, relayUrl: string) {
  const done = DONE[step] ?? { title: 'Done', text: 'You can close this tab.' };
  const signsIn = step === 'joined' || step === 'reset' || step === 'enrolled';
  return sendPage(
    reply,
    done.title,
    html`<h1>${done.title}</h1><p>${done.text}</p>${
      signsIn ? html`<p>Relay URL to enter in the extension: <code id="relay-url">${relayUrl}</code></p>` : ''
    }`,
  );
}
