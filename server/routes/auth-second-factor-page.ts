import { Type } from 'typebox';
import { pageAnswers } from '../../contract/pages.ts';
import { linkHolder } from '../auth/joining.ts';
import { otpauthUri } from '../auth/totp.ts';
import { confirmTotpEnrolment } from '../auth/totp-enrolment.ts';
import type { TotpSecrets } from '../auth/totp-secrets.ts';
import { consumeLink } from '../auth/users.ts';
import { ApiError } from '../errors.ts';
import { publicRoute } from '../http/access.ts';
import { html, sendPage } from '../http/html.ts';
import type { RouteModule } from '../http/services.ts';
import { enrolmentPage } from './auth-page-views.ts';
import { COPY_BUTTON_SCRIPT } from './page-assets.ts';

const EnrolForm = Type.Object({
  token: Type.String({ maxLength: 200 }),
  code: Type.String({ maxLength: 20 }),
});

/**
 * The joining page's second step, when the org requires a second factor: the code from the new
 * authenticator app confirms it, and the recovery codes are shown once. The step token is an
 * 'mfa' link issued when the password was chosen; a wrong code leaves it usable.
 */
export const secondFactorPageRoutes =
  (totpSecrets: TotpSecrets): RouteModule =>
  (app, { db, clock }) => {
    app.post(
      '/auth/enrol',
      {
        config: {
          ...publicRoute(
            'the joining page’s authenticator step; its single-use step token is the credential',
          ),
          formBody: 'the joining page is a plain HTML form',
        },
        schema: {
          summary: 'Confirm an authenticator app while joining (page)',
          tags: ['auth'],
          body: EnrolForm,
          response: pageAnswers,
        },
      },
      async (request, reply) => {
        const now = clock();
        const { token, code } = request.body;
        const holder = await linkHolder(db, 'mfa', token, now);
        if (holder === null)
          return sendPage(
            reply,
            'Step expired',
            html`<h1>This step has expired</h1>
              <p>Your password is set. Sign in from the extension’s options: it asks you to set up the authenticator app.</p>`,
            { status: 400 },
          );
        const user = holder.user;
        await totpSecrets.ready();
        try {
          const codes = await db.transaction(async (tx) => {
            const recovery = await confirmTotpEnrolment(
              tx,
              totpSecrets,
              { orgId: user.org_id, actor: `user:${user.id}`, userId: user.id, sessionId: null },
              code.replace(/\s/g, ''),
              now,
            );
            await consumeLink(tx, 'mfa', token, now);
            return recovery;
          });
          return recoveryCodesPage(reply, codes);
        } catch (error) {
          if (!(error instanceof ApiError) || error.code !== 'INVALID_CODE') throw error;
          const opened = user.totp_secret === null ? null : await totpSecrets.open(user.id, user.totp_secret);
          if (opened === null) throw error;
          return enrolmentPage(
            reply,
            {
              stepToken: token,
              email: user.email,
              secret: opened.secret,
              otpauthUri: otpauthUri(opened.secret, user.email),
              problem: { field: 'code', message: error.message },
            },
            422,
          );
        }
      },
    );
  };

function recoveryCodesPage(reply: Parameters<typeof sendPage>[0], codes: string[]) {
  return sendPage(
    reply,
    'Save your recovery codes',
    html`<h1>You are all set</h1>
      <p>Your authenticator app is confirmed. Keep these recovery codes somewhere safe: each one signs you in
      once if you lose your phone. They are shown <strong>only now</strong>.</p>
      <pre class="secret" id="recovery-codes">${codes.join('\n')}</pre>
      <p><button type="button" data-copy="recovery-codes" hidden>Copy the codes</button>
      <span id="recovery-codes-status" role="status" class="muted"></span></p>
      <p>Then sign in from the extension’s options with your email, your password and a code from the app.</p>`,
    { script: COPY_BUTTON_SCRIPT },
  );
}
