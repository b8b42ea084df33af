-- Each anomaly alert is mailed to the org's admins (server/anomalies/alert-notices.ts): claimed
-- (notice_attempt_at, by the relay's clock; a claim older than five minutes is taken again), then
-- marked notified_at once every mail was handed over. Alerts from before this are not news.
ALTER TABLE anomaly_alerts ADD COLUMN notice_attempt_at timestamptz;
ALTER TABLE anomaly_alerts ADD COLUMN notified_at timestamptz;
UPDATE anomaly_alerts SET notified_at = created_at;
CREATE INDEX anomaly_alerts_unnotified ON anomaly_alerts (created_at) WHERE notified_at IS NULL;
