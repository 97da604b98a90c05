-- Sealbox: the app and intake roles' privileges on the current schema. Idempotent. Run
-- as the owner (migration) role after `sealbox db upgrade`, every time:
--
--   psql "postgresql://sealbox_owner@db-host/sealbox" -v ON_ERROR_STOP=1 \
--        -f deploy/postgresql/grants.sql   # -v app=... -v intake=... if not the defaults

\set ON_ERROR_STOP on
\if :{?app}
\else
  \set app sealbox_app
\endif
\if :{?intake}
\else
  \set intake sealbox_intake
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

-- The intake (reporters' app): what a report and its follow-up read and write, nothing
-- else, so a compromised intake process cannot re-key an account (caseworkers.public_key),
-- read a password hash, wrapped private key or second factor, touch sessions, policy or
-- the audit log, or change a case's workflow. Everything is taken away first, so a table
-- added by a later version stays closed to it until granted here.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM :"intake";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM :"intake";
GRANT SELECT ON alembic_version, categories, category_members, questions, instance_policy
  TO :"intake";
-- Routing, the certified key to wrap to, and the names reporters may see.
GRANT SELECT (id, display_name, team, public_key, key_certificate, is_caseworker,
              is_custodian, active) ON caseworkers TO :"intake";
GRANT SELECT, INSERT ON cases, messages, attachments, identity_records, wrapped_keys,
  case_exclusions, case_links, case_labels TO :"intake";
-- A reporter's follow-up changes only these of a case: activity date, unread flag, an
-- oral report's agreement, the content numbering and chain (cases.content), and, when
-- the reporter takes over a handed-over receipt (cases.reporting.claim), the look-up and reporter
-- key. It cannot delete or change a wrapped key: the handed-over receipt's key is swept
-- by the purge, which runs as the app role.
GRANT UPDATE (reporter_activity_on, unread_by_caseworkers, minutes_agreed_on,
              minutes_agreed_how, minutes_in_person_by_id, last_position, content_head,
              lookup_hash, reporter_public_key, reporter_key_id, receipt_claimed_on)
  ON cases TO :"intake";
-- Its own sessions; attachment chunks it may drop while an upload is still uncommitted.
GRANT SELECT, INSERT, DELETE ON reporter_sessions, blob_chunks TO :"intake";
-- Forms already sent (cases.reporting.resend): it records and checks them; only the
-- purge (the app role) deletes them.
GRANT SELECT, INSERT ON sent_submissions TO :"intake";
GRANT UPDATE (receipt_saved) ON sent_submissions TO :"intake";
-- Mail notices (cases.notifications): it adds one for each person a report or a message
-- concerns; only the back office reads them, with the addresses it alone can see.
GRANT INSERT ON notice_outbox TO :"intake";
