/**
 * The PostgreSQL schema, applied in order and recorded in `codexin_schema`. Append
 * new steps; never edit a step that has shipped. Column names and value shapes match
 * the SQLite schema (times are Unix ms, JSON in text,
 * flags as 0/1), so one row type serves both and `codexin db copy` moves rows as they are.
 *
 * Times and counters are `double precision`: Bun's client returns int8 as a string,
 * while a float8 holds every integer below 2^53 exactly (Unix ms, token counts) and
 * arrives as a JavaScript number. Aggregates are cast back where they would widen.
 */
export const PG_MIGRATIONS: readonly string[] = [
  // 1: everything the single-binary schema has, plus bytes of uploaded files.
  `
  CREATE TABLE keys (
    id text PRIMARY KEY,
    name text NOT NULL,
    key_hash bytea NOT NULL UNIQUE,
    prefix text NOT NULL,
    scopes text NOT NULL DEFAULT '[]',
    created_at double precision NOT NULL,
    last_used_at double precision,
    expires_at double precision,
    revoked_at double precision,
    rpm integer,
    token_quota_daily double precision,
    token_quota_weekly double precision,
    max_concurrent integer,
    allowed_models text,
    usage_reset_at double precision
  );
  CREATE TABLE models (
    id text PRIMARY KEY,
    upstream_slug text NOT NULL,
    display_name text NOT NULL,
    owned_by text NOT NULL DEFAULT 'openai',
    created double precision NOT NULL,
    context_window integer NOT NULL,
    default_reasoning_effort text,
    position integer NOT NULL,
    enabled integer NOT NULL DEFAULT 1
  );
  CREATE TABLE accounts (
    id text PRIMARY KEY,
    label text NOT NULL,
    chatgpt_account_id text NOT NULL UNIQUE,
    email text,
    plan text,
    access_token text NOT NULL,
    refresh_token text NOT NULL,
    id_token text NOT NULL,
    access_expires_at double precision,
    last_refresh_at double precision,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_login', 'disabled')),
    status_message text,
    cooldown_until double precision,
    last_used_at double precision,
    quota text,
    created_at double precision NOT NULL,
    refresh_started_at double precision
  );
  CREATE TABLE usage (
    id bigserial PRIMARY KEY,
    row_uid text UNIQUE,
    at double precision NOT NULL,
    key_id text,
    account_id text,
    route text NOT NULL,
    model text,
    status integer NOT NULL,
    input_tokens double precision NOT NULL DEFAULT 0,
    cached_tokens double precision NOT NULL DEFAULT 0,
    output_tokens double precision NOT NULL DEFAULT 0,
    reasoning_tokens double precision NOT NULL DEFAULT 0,
    latency_ms integer,
    ttfb_ms integer,
    request_id text,
    error_code text
  );
  CREATE INDEX usage_key_at ON usage (key_id, at);
  CREATE INDEX usage_account_at ON usage (account_id, at);
  CREATE INDEX usage_at ON usage (at);
  CREATE TABLE usage_daily (
    key_id text NOT NULL,
    day integer NOT NULL,
    tokens double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, day)
  );
  CREATE TABLE files (
    id text PRIMARY KEY,
    key_id text NOT NULL,
    filename text NOT NULL,
    purpose text NOT NULL,
    bytes double precision NOT NULL,
    sha256 text NOT NULL,
    mime text NOT NULL,
    created_at double precision NOT NULL,
    expires_at double precision,
    upstream_file_id text,
    seq bigserial UNIQUE
  );
  CREATE INDEX files_key_seq ON files (key_id, seq);
  CREATE INDEX files_sha256 ON files (sha256);
  CREATE TABLE blobs (
    sha256 text PRIMARY KEY,
    bytes bytea NOT NULL
  );
  CREATE TABLE rate_hits (
    key_id text NOT NULL,
    at double precision NOT NULL
  );
  CREATE INDEX rate_hits_key_at ON rate_hits (key_id, at);
  CREATE TABLE leases (
    id text PRIMARY KEY,
    key_id text NOT NULL,
    expires_at double precision NOT NULL
  );
  CREATE INDEX leases_key ON leases (key_id, expires_at);
  CREATE TABLE instances (
    id text PRIMARY KEY,
    started_at double precision NOT NULL,
    seen_at double precision NOT NULL
  );
  `,
  // 2: instance-wide settings; `secret_key_check` holds a value sealed with the key the
  //    first instance used, so an instance started with another key is refused at once.
  `
  CREATE TABLE settings (
    name text PRIMARY KEY,
    value text NOT NULL
  );
  `,
  // 3: shared rate limits and concurrency leases (src/coord/postgres-limits.ts). Each call
  // is one round trip that serialises its key with a transaction advisory lock and reads
  // the server's clock after taking it; VOLATILE so every statement sees the commits of
  // the previous holder.
  `
  CREATE FUNCTION codexin_take_requests(p_key text, p_limit integer, p_calls integer, p_window double precision)
  RETURNS TABLE (o_admitted boolean, o_used integer, o_reset_ms double precision, o_at double precision)
  LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    now_ms double precision;
    n integer;
    oldest double precision;
  BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('codexin:' || p_key));
    now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000);
    DELETE FROM rate_hits WHERE key_id = p_key AND at <= now_ms - p_window;
    SELECT count(*)::int, min(at) INTO n, oldest FROM rate_hits WHERE key_id = p_key;
    o_admitted := n + p_calls <= p_limit;
    IF o_admitted THEN
      INSERT INTO rate_hits (key_id, at) SELECT p_key, now_ms FROM generate_series(1, p_calls);
      n := n + p_calls;
      oldest := coalesce(oldest, now_ms);
    END IF;
    o_used := n;
    o_reset_ms := CASE WHEN oldest IS NULL THEN p_window ELSE oldest + p_window - now_ms END;
    o_at := now_ms;
    RETURN NEXT;
  END
  $$;
  CREATE FUNCTION codexin_take_lease(p_key text, p_limit integer, p_id text, p_ttl double precision)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    now_ms double precision;
    n integer;
  BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('codexin:' || p_key));
    now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000);
    DELETE FROM leases WHERE key_id = p_key AND expires_at <= now_ms;
    SELECT count(*)::int INTO n FROM leases WHERE key_id = p_key;
    IF n >= p_limit THEN
      RETURN false;
    END IF;
    INSERT INTO leases (id, key_id, expires_at) VALUES (p_id, p_key, now_ms + p_ttl);
    RETURN true;
  END
  $$;
  `,
  // 4: the window's size kept in a counter row per key, so a decision costs the same at
  //    6 hits or 6,000 (counting the rows grew by ~0.25 ms per 1,000, measured): expired
  //    hits are deleted as they age out and subtracted, the oldest one is an index probe.
  `
  CREATE TABLE rate_counts (
    key_id text PRIMARY KEY,
    n integer NOT NULL
  );
  INSERT INTO rate_counts (key_id, n) SELECT key_id, count(*)::int FROM rate_hits GROUP BY key_id;
  CREATE OR REPLACE FUNCTION codexin_take_requests(p_key text, p_limit integer, p_calls integer, p_window double precision)
  RETURNS TABLE (o_admitted boolean, o_used integer, o_reset_ms double precision, o_at double precision)
  LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    now_ms double precision;
    cnt integer;
    expired integer;
    oldest double precision;
  BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('codexin:' || p_key));
    now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000);
    DELETE FROM rate_hits WHERE key_id = p_key AND at <= now_ms - p_window;
    GET DIAGNOSTICS expired = ROW_COUNT;
    INSERT INTO rate_counts AS c (key_id, n) VALUES (p_key, 0)
      ON CONFLICT (key_id) DO UPDATE SET n = greatest(0, c.n - expired)
      RETURNING c.n INTO cnt;
    SELECT at INTO oldest FROM rate_hits WHERE key_id = p_key ORDER BY at LIMIT 1;
    o_admitted := cnt + p_calls <= p_limit;
    IF o_admitted THEN
      INSERT INTO rate_hits (key_id, at) SELECT p_key, now_ms FROM generate_series(1, p_calls);
      cnt := cnt + p_calls;
      UPDATE rate_counts SET n = rate_counts.n + p_calls WHERE key_id = p_key;
      oldest := coalesce(oldest, now_ms);
    END IF;
    o_used := cnt;
    o_reset_ms := CASE WHEN oldest IS NULL THEN p_window ELSE oldest + p_window - now_ms END;
    o_at := now_ms;
    RETURN NEXT;
  END
  $$;
  CREATE FUNCTION codexin_refund_requests(p_key text, p_at double precision, p_calls integer)
  RETURNS void
  LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    gone integer;
  BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('codexin:' || p_key));
    DELETE FROM rate_hits WHERE ctid IN (SELECT ctid FROM rate_hits WHERE key_id = p_key AND at = p_at LIMIT p_calls);
    GET DIAGNOSTICS gone = ROW_COUNT;
    UPDATE rate_counts SET n = greatest(0, rate_counts.n - gone) WHERE key_id = p_key;
  END
  $$;
  `,
];
