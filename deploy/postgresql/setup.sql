-- Sealbox PostgreSQL set-up: one database, two roles, least privilege. Run once, as a
-- superuser, with psql (it uses psql variables and \connect):
--
--   sudo -u postgres psql -v ON_ERROR_STOP=1 \
--        -v owner_password="$(cat /root/sealbox-owner.pw)" \
--        -v app_password="$(cat /root/sealbox-app.pw)" -f deploy/postgresql/setup.sql
--
-- Optional variables (defaults in brackets): db [sealbox], owner [sealbox_owner],
-- app [sealbox_app], intake [sealbox_intake].
--
--   owner  owns the database, the schema and every table. Used only to run migrations
--          (`sealbox db upgrade`) and grants.sql, never by the running apps.
--   app    what the caseworker app, the CLI's day-to-day commands and the purge timer use:
--          read and write rows, nothing else. It cannot create, alter or drop tables,
--          cannot make temporary tables, cannot rewrite or delete audit entries
--          (grants.sql), and cannot move the schema version.
--   intake what the reporters' app uses: only the rows and columns a report and its
--          follow-up need (grants.sql). It cannot read caseworkers' hashes, wrapped keys or
--          second factors, cannot change any account or policy, and has no audit access.
--
-- Then, as the owner: `sealbox db upgrade`, then grants.sql (after every upgrade).
-- Passwords travel in the CREATE ROLE statements: keep log_statement at 'none' or 'mod'
-- (not 'ddl'/'all') while this runs, and use scram-sha-256 in pg_hba.conf.

\set ON_ERROR_STOP on
\if :{?db}
\else
  \set db sealbox
\endif
\if :{?owner}
\else
  \set owner sealbox_owner
\endif
\if :{?app}
\else
  \set app sealbox_app
\endif
\if :{?intake}
\else
  \set intake sealbox_intake
\endif
\if :{?owner_password}
\else
  \echo 'setup.sql: pass -v owner_password=... and -v app_password=...'
  SELECT 1 / 0 AS missing_owner_password;
\endif
\if :{?app_password}
\else
  \echo 'setup.sql: pass -v app_password=...'
  SELECT 1 / 0 AS missing_app_password;
\endif
\if :{?intake_password}
\else
  \echo 'setup.sql: pass -v intake_password=...'
  SELECT 1 / 0 AS missing_intake_password;
\endif

SET password_encryption = 'scram-sha-256';

CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS;
CREATE ROLE :"app" LOGIN PASSWORD :'app_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS
  CONNECTION LIMIT 200;
CREATE ROLE :"intake" LOGIN PASSWORD :'intake_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS
  CONNECTION LIMIT 200;

CREATE DATABASE :"db" OWNER :"owner" ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"app";
GRANT CONNECT ON DATABASE :"db" TO :"intake";

-- Leaked or stuck transactions must not hold locks for long; an upload streaming into
-- the database (attachment_storage = "database") waits on a slow client between chunks.
ALTER ROLE :"app" IN DATABASE :"db" SET idle_in_transaction_session_timeout = '5min';
ALTER ROLE :"intake" IN DATABASE :"db" SET idle_in_transaction_session_timeout = '5min';
ALTER ROLE :"intake" IN DATABASE :"db" SET statement_timeout = '2min';
ALTER ROLE :"app" IN DATABASE :"db" SET statement_timeout = '2min';

\connect :"db"
SET password_encryption = 'scram-sha-256';
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
GRANT USAGE ON SCHEMA public TO :"intake";

-- Tables and sequences the owner creates later (every migration) are usable by the app
-- at once; grants.sql then takes back what the app must not do.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
