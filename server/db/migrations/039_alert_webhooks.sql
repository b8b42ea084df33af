-- An anomaly alert goes to the org's admins by mail and, when the org set anomaly.webhookUrl, to
-- its SIEM as a signed POST (server/anomalies/alert-webhook.ts). Each channel is marked when done,
-- so a retry of one never repeats the other; notified_at is set once both are done (or given up).
ALTER TABLE anomaly_alerts ADD COLUMN mailed_at timestamptz;
ALTER TABLE anomaly_alerts ADD COLUMN webhook_at timestamptz;
UPDATE anomaly_alerts SET mailed_at = notified_at;
