-- mmaerec-edge plant store, version 1: one row per inspection or error event, its regions, and the last
-- status of each camera. Applied by consumer.ts at start (see migrate.ts), once, inside one transaction.

-- One row per event, keyed by the event's ULID: a redelivered event (MQTT is at-least-once) hits the primary
-- key and is skipped by INSERT ... ON CONFLICT (id) DO NOTHING. ULIDs sort by time, so `ORDER BY id` is
-- time order (byte order: COLLATE "C", whatever the database default) and range partitions on id are time
-- partitions (docs/plant-side.md).
CREATE TABLE events (
  id              text COLLATE "C" PRIMARY KEY CHECK (id ~ '^[0-9A-HJKMNP-TV-Z]{26}$'),
  schema          text NOT NULL CHECK (schema IN ('mmaerec.inspection/1', 'mmaerec.error/1')),
  line            text NOT NULL,
  station         text NOT NULL,
  camera          text NOT NULL,
  frame_id        text NOT NULL,
  origin          text,
  captured_at     timestamptz NOT NULL,
  finished_at     timestamptz NOT NULL,
  -- Inspection events: verdict 'ok' or 'defect'; error events: 'error' with error_code and error_message.
  verdict         text NOT NULL CHECK (verdict IN ('ok', 'defect', 'error')),
  score           double precision,
  image_threshold double precision,
  pixel_threshold double precision,
  region_count    integer NOT NULL DEFAULT 0,
  error_code      text,
  error_message   text,
  bundle_name     text,
  bundle_sha256   text,
  backend         text,
  total_ms        double precision,
  -- The event as received (unknown fields included: a newer device may add fields within the same version).
  payload         jsonb NOT NULL,
  topic           text NOT NULL,
  -- The MQTT client id of the consumer that stored the row, and when.
  stored_by       text NOT NULL,
  stored_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((verdict = 'error') = (schema = 'mmaerec.error/1'))
);
CREATE INDEX events_source_time ON events (line, station, camera, captured_at);
CREATE INDEX events_defects ON events (captured_at) WHERE verdict = 'defect';

-- The defect regions of an inspection event, in the order the device reported them (ordinal from 0).
CREATE TABLE regions (
  event_id   text COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  ordinal    integer NOT NULL CHECK (ordinal >= 0),
  x          double precision NOT NULL,
  y          double precision NOT NULL,
  width      double precision NOT NULL CHECK (width >= 0),
  height     double precision NOT NULL CHECK (height >= 0),
  area       double precision NOT NULL CHECK (area >= 0),
  max_score  double precision NOT NULL,
  mean_score double precision NOT NULL,
  PRIMARY KEY (event_id, ordinal)
);

-- The latest status event (birth, heartbeat, shutdown, last will) of each camera; older ones are ignored.
CREATE TABLE camera_status (
  line       text NOT NULL,
  station    text NOT NULL,
  camera     text NOT NULL,
  event_id   text NOT NULL,
  state      text NOT NULL CHECK (state IN ('online', 'offline')),
  reason     text NOT NULL,
  at         timestamptz NOT NULL,
  payload    jsonb NOT NULL,
  PRIMARY KEY (line, station, camera)
);
