-- A sign-in from a device a person never signed in from before raises an anomaly alert
-- (metric new_device, server/anomalies/new-device.ts); what device and from where is its detail.
ALTER TABLE anomaly_alerts ADD COLUMN detail jsonb NOT NULL DEFAULT '{}';
