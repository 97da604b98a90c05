-- Sealbox: the app role's privileges on the current schema. Idempotent. Run as the owner
-- (migration) role after `sealbox db upgrade`, every time:
--
--   psql "postgresql://sealbox_owner@db-host/sealbox" -v ON_ERROR_STOP=1 \
--        -f deploy/postgresql/grants.sql            # -v app=... if not sealbox_app

\set ON_ERROR_STOP on
\if :{?app}
\else
  \set app sealbox_app
\endif

GRANT USAGE ON SCHEMA public TO :"app";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";

-- The audit chain is append-only for the apps: a compromised app process can add
-- entries but cannot quietly rewrite or drop history (`sealbox audit verify` would still
-- notice; this makes it impossible rather than detectable).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM :"app";

-- Alembic's bookkeeping: the apps read it (start-up schema check), only the owner moves it.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM :"app";
GRANT SELECT ON alembic_version TO :"app";
