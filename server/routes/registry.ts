import type { RouteModule } from '../http/services.ts';
import { adminConsoleRoutes } from './admin-console.ts';
import { alertRoutes } from './alerts.ts';
import { apiDocsRoutes } from './api-docs.ts';
import { apiKeysRoutes } from './api-keys.ts';
import { auditRoutes } from './audit.ts';
import { authRoutes } from './auth.ts';
import { passkeyRoutes } from './auth-passkeys.ts';
import { reauthRoutes } from './auth-reauth.ts';
import { samlRoutes } from './auth-saml.ts';
import { sandboxMailRoutes } from './auth-sandbox-mail.ts';
import { consentRoutes } from './consent.ts';
import { contactsRoutes } from './contacts.ts';
import { conversationsRoutes } from './conversations.ts';
import { crmAdminRoutes } from './crm-admin.ts';
import { crmInstallRoutes } from './crm-install.ts';
import { crmOAuthRoutes } from './crm-oauth.ts';
import { hubspotWebhookRoutes } from './crm-webhooks.ts';
import { escalationsRoutes } from './escalations.ts';
import { eventsRoutes } from './events.ts';
import { healthRoutes } from './health.ts';
import { inboxRoutes } from './inbox.ts';
import { legalHoldsRoutes } from './legal-holds.ts';
import { meRoutes } from './me.ts';
import { messageScheduleRoutes } from './message-schedule.ts';
import { messagesRoutes } from './messages.ts';
import { numbersRoutes } from './numbers.ts';
import { orgSettingsRoutes } from './org-settings.ts';
import { pageAssetRoutes } from './page-assets.ts';
import { paymentChangeRoutes } from './payment-changes.ts';
import { paymentHoldRoutes } from './payment-holds.ts';
import { paymentPageRoutes } from './payment-pages.ts';
import { paymentReportRoutes } from './payment-report.ts';
import { paymentRequestRoutes } from './payment-requests.ts';
import { paymentTermsRoutes } from './payment-terms.ts';
import { policyRoutes } from './policy.ts';
import { preflightRoutes } from './preflight.ts';
import { reportRoutes } from './reports.ts';
import { reviewRoutes } from './review.ts';
import { reviewQueueRoutes } from './review-queue.ts';
import { rolesRoutes } from './roles.ts';
import { sandboxRoutes } from './sandbox.ts';
import { sessionsRoutes } from './sessions.ts';
import { setupRoutes } from './setup.ts';
import { typingRoutes } from './typing.ts';
import { usersRoutes } from './users.ts';
import { paymentWebhookRoutes } from './webhooks-payments.ts';
import { plivoWebhookRoutes } from './webhooks-plivo.ts';

/** Every route module, in registration order. Adding a resource is one file plus one line here. */
export const ROUTE_MODULES: Record<string, RouteModule> = {
  health: healthRoutes,
  apiDocs: apiDocsRoutes,
  me: meRoutes,
  numbers: numbersRoutes,
  messages: messagesRoutes,
  messageSchedule: messageScheduleRoutes,
  preflight: preflightRoutes,
  reviews: reviewRoutes,
  conversations: conversationsRoutes,
  events: eventsRoutes,
  consent: consentRoutes,
  contacts: contactsRoutes,
  escalations: escalationsRoutes,
  webhooksPlivo: plivoWebhookRoutes,
  webhooksHubspot: hubspotWebhookRoutes,
  webhooksPayments: paymentWebhookRoutes,
  paymentTerms: paymentTermsRoutes,
  inbox: inboxRoutes,
  typing: typingRoutes,
  reports: reportRoutes,
  paymentRequests: paymentRequestRoutes,
  paymentChanges: paymentChangeRoutes,
  paymentHolds: paymentHoldRoutes,
  alerts: alertRoutes,
  reviewQueue: reviewQueueRoutes,
  paymentReport: paymentReportRoutes,
  paymentPages: paymentPageRoutes,
  crmAdmin: crmAdminRoutes,
  crmInstall: crmInstallRoutes,
  crmOAuth: crmOAuthRoutes,
  setup: setupRoutes,
  pageAssets: pageAssetRoutes,
  adminConsole: adminConsoleRoutes,
  orgSettings: orgSettingsRoutes,
  policy: policyRoutes,
  sandbox: sandboxRoutes,
  auth: authRoutes,
  reauth: reauthRoutes,
  passkeys: passkeyRoutes,
  saml: samlRoutes,
  sessions: sessionsRoutes,
  users: usersRoutes,
  roles: rolesRoutes,
  audit: auditRoutes,
  apiKeys: apiKeysRoutes,
  sandboxMail: sandboxMailRoutes,
  legalHolds: legalHoldsRoutes,
};
