import type { FastifyReply } from 'fastify';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/passwords.ts';
import type { UserRow } from '../auth/users.ts';
import { html, sendPage } from '../http/html.ts';
import { COPY_BUTTON_SCRIPT } from './page-assets.ts';

// The forms of the joining pages, re-rendered with the reason next to the field on a refusal.

/** A refusal shown next to the field it is about. */
export interface FieldProblem {
  field: string;
  message: string;
}

export interface PasswordFormState {
  token: string;
  user: UserRow;
  orgName: string;
  problem: FieldProblem | null;
}

const fieldError = (problem: FieldProblem | null, field: string) =>
  problem?.field === field
    ? html`<p class="field-error" id="${field}-error" role="alert">${problem.message}</p>`
    : '';
const invalid = (problem: FieldProblem | null, field: string) =>
  problem?.field === field ? html` aria-invalid="true" aria-describedby="${field}-error"` : '';

/** Choose a password: joining from an invitation (no password yet) or resetting one. */
export function passwordForm(reply: FastifyReply, state: PasswordFormState, status = 200) {
  const { user, orgName, problem } = state;
  const joining = user.password_hash === null;
  const title = joining ? `Join ${orgName} on CRM Texting` : 'Choose a new password';
  return sendPage(
    reply,
    title,
    html`<h1>${title}</h1>
      <p>${joining ? 'You are invited as' : 'For'} <strong>${user.email}</strong>.</p>
      <form method="post" action="/auth/reset">
        <input type="hidden" name="token" value="${state.token}">
        <input type="hidden" name="username" value="${user.email}" autocomplete="username">
        <label for="password">${joining ? 'Choose a password' : 'New password'}
          <span class="hint">At least ${String(MIN_PASSWORD_LENGTH)} characters; a passphrase of a few words works well.</span></label>
        <input id="password" name="password" type="password" required autocomplete="new-password"
          minlength="${String(MIN_PASSWORD_LENGTH)}" maxlength="${String(MAX_PASSWORD_LENGTH)}"${invalid(problem, 'password')}>
        ${fieldError(problem, 'password')}
        <label for="confirm">Type it again</label>
        <input id="confirm" name="confirm" type="password" required autocomplete="new-password"${invalid(problem, 'confirm')}>
        ${fieldError(problem, 'confirm')}
        <button type="submit">${joining ? 'Join' : 'Set the new password'}</button>
      </form>`,
    { status },
  );
}

export interface EnrolmentState {
  /** The single-use step token (an 'mfa' link) that ties the code form to this user. */
  stepToken: string;
  email: string;
  secret: string;
  otpauthUri: string;
  problem: FieldProblem | null;
}

/** The second step of joining when the org requires a second factor: an authenticator app. */
export function enrolmentPage(reply: FastifyReply, state: EnrolmentState, status = 200) {
  return sendPage(
    reply,
    'Set up your authenticator app',
    html`<h1>Set up your authenticator app</h1>
      <p>Your password is set. Your organisation also asks for a code from an authenticator app
      (Google Authenticator, Microsoft Authenticator, 1Password, …) at each sign-in.</p>
      <ol>
        <li>In the app, add an account by entering this key (or <a href="${state.otpauthUri}">open it in the app</a> on this device):
          <p><span class="secret" id="totp-key">${state.secret}</span>
          <button type="button" class="secondary" data-copy="totp-key" hidden>Copy key</button>
          <span id="totp-key-status" role="status" class="muted"></span></p></li>
        <li>Type the 6-digit code the app shows for <strong>${state.email}</strong>.</li>
      </ol>
      <form method="post" action="/auth/enrol">
        <input type="hidden" name="token" value="${state.stepToken}">
        <label for="code">Code from the app</label>
        <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="8"${invalid(state.problem, 'code')}>
        ${fieldError(state.problem, 'code')}
        <button type="submit">Confirm</button>
      </form>
      <p class="muted">This step lasts five minutes. If it runs out, sign in from the extension: it asks for the app again.</p>`,
    { status, script: COPY_BUTTON_SCRIPT },
  );
}
