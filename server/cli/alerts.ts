import { alertWebhookSecret } from '../anomalies/alert-webhook.ts';
import { readAnomalySettings } from '../anomalies/anomaly-settings.ts';
import { requireOrg } from '../organisations/org-admin.ts';
import type { Command } from './command.ts';

/** `alerts webhook-secret`: what the org's collector checks anomaly-alert signatures with. */
export const ALERT_COMMANDS: Record<string, Command> = {
  'alerts webhook-secret': {
    summary: "The secret an org's collector checks anomaly-alert webhook signatures with",
    usage: 'alerts webhook-secret --org <orgId> [--json]',
    flags: { org: { help: 'organisation id', required: true, value: true } },
    async run(db, flags) {
      const org = await requireOrg(db, flags.org ?? '');
      const secret = await alertWebhookSecret(db, org.id);
      const { webhookUrl } = await readAnomalySettings(db, org.id);
      return {
        json: { orgId: org.id, secret, webhookUrl },
        text: [
          `Signing secret for ${org.name}: ${secret}`,
          webhookUrl === null
            ? 'No webhook is set: npm run cli -- org settings --org <id> --set anomaly.webhookUrl --value https://…'
            : `Alerts are POSTed to ${webhookUrl}.`,
          'Each POST carries Crm-Texting-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with this secret>.',
        ].join('\n'),
      };
    },
  },
};
