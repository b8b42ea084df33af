-- Anomaly alerts (issue #18, item 6). Each org's sending is counted per hour, per rep and for the
-- whole org (outbound texts, new recipients, opt-outs, carrier errors); an exponentially weighted
-- mean and variance per subject and metric is the baseline an hour is judged against. Times are
-- the relay's clock (bucket_start, created_at, resolved_at), as everywhere.
CREATE TABLE anomaly_baselines (
  org_id     uuid NOT NULL REFERENCES orgs(id),
  -- 'org', or 'user:<uuid>' for one rep.
  subject    text NOT NULL,
  metric     text NOT NULL CHECK (metric IN ('outbound', 'new_recipients', 'opt_outs', 'carrier_errors')),
  mean       double precision NOT NULL,
  variance   double precision NOT NULL,
  -- How many hours the baseline has seen: it judges nothing before it has seen a working half-day.
  buckets    integer NOT NULL,
  PRIMARY KEY (org_id, subject, metric)
);

-- The last hour judged per org, so each hour is judged once (and by one relay: the row is locked).
CREATE TABLE anomaly_cursors (
  org_id       uuid PRIMARY KEY REFERENCES orgs(id),
  last_bucket  timestamptz NOT NULL
);

CREATE TABLE anomaly_alerts (
  id               uuid PRIMARY KEY,
  org_id           uuid NOT NULL REFERENCES orgs(id),
  subject          text NOT NULL,
  user_id          uuid REFERENCES users(id),
  metric           text NOT NULL,
  bucket_start     timestamptz NOT NULL,
  observed         double precision NOT NULL,
  expected         double precision NOT NULL,
  -- Standard deviations above the baseline.
  deviation        double precision NOT NULL,
  -- The org pauses a rep's sending on an alert about them (anomaly.pauseRep).
  paused           boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL,
  resolved_at      timestamptz,
  resolved_by      text,
  resolution_note  text,
  UNIQUE (org_id, subject, metric, bucket_start)
);
CREATE INDEX anomaly_alerts_org_recent ON anomaly_alerts (org_id, created_at DESC, id);

-- A rep whose sending an alert paused: new sends are refused until an admin resolves the alert.
ALTER TABLE users ADD COLUMN sending_paused_at timestamptz;
ALTER TABLE users ADD COLUMN sending_paused_by uuid REFERENCES anomaly_alerts(id);
