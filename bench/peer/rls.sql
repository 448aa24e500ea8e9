-- The peer's roles, grants, row-level security policies and computed columns, on the bench
-- agency's database. Run by bench/peer.py as a superuser (the bench's own connection); safe to
-- run again (bench/run.py drops the public schema when it builds a fresh agency, which drops
-- everything below but the roles).
--
-- agency_peer_staff   PostGraphile's login role and the staff reader (the MANAGER of this API's
--                     benchmark): SELECT only, on the tables and columns the benchmark reads.
--                     NOINHERIT, so the portal policies below do not apply to it.
-- agency_peer_portal  a portal user (this API's CLIENT role): PostGraphile switches to it for a
--                     request carrying X-Portal-Client, with jwt.claims.client_id set to that
--                     client's id (graphile.config.mjs); the policies limit it to this API's row
--                     scope for a CLIENT (auth/scopes.py): its own client, that client's
--                     projects, and their tasks marked visible_to_client.
--
-- Nothing here can write: neither role has a privilege other than SELECT (and EXECUTE on the
-- computed columns' STABLE functions), so PostGraphile's schema has no mutations.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agency_peer_portal') THEN
    CREATE ROLE agency_peer_portal NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agency_peer_staff') THEN
    CREATE ROLE agency_peer_staff LOGIN NOINHERIT PASSWORD 'agency-peer-bench';
  END IF;
END
$$;
ALTER ROLE agency_peer_staff LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS
  PASSWORD 'agency-peer-bench';
ALTER ROLE agency_peer_portal NOLOGIN NOBYPASSRLS;
GRANT agency_peer_portal TO agency_peer_staff;

GRANT USAGE ON SCHEMA public TO agency_peer_staff, agency_peer_portal;

-- Staff: the tables of the nested list and the Clients list page; of user_account only the
-- display name (no e-mail, password hash or rates).
GRANT SELECT ON client, client_status, contact, project, task, invoice, invoice_line, payment TO agency_peer_staff;
GRANT SELECT (id, full_name) ON user_account TO agency_peer_staff;

-- The portal user: the columns this API's field policy calls PUBLIC for a CLIENT on these
-- tables (auth/policy_table.py), plus the keys the relations join on. Not internal_notes, tier,
-- status, health, budget, estimate_hours, visible_to_client (the policy reads it, the user
-- does not).
GRANT SELECT (id, name, logo_url, website, billing_address, industry, became_client_on, created_at,
              portal_booking_enabled, account_manager_id)
  ON client TO agency_peer_portal;
GRANT SELECT (id, client_id, name, description, start_date, end_date, status, created_at)
  ON project TO agency_peer_portal;
GRANT SELECT (id, project_id, title, description, status, due_date, completed_at, position, created_at)
  ON task TO agency_peer_portal;

ALTER TABLE client ENABLE ROW LEVEL SECURITY;
ALTER TABLE project ENABLE ROW LEVEL SECURITY;
ALTER TABLE task ENABLE ROW LEVEL SECURITY;
-- (This API connects as the tables' owner, a superuser: row-level security never applies to it.)

-- The portal user's client, from the request's settings; NULL (no rows) when it is not set.
CREATE OR REPLACE FUNCTION peer_portal_client_id() RETURNS integer
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('jwt.claims.client_id', true), '')::integer $$;
COMMENT ON FUNCTION peer_portal_client_id() IS E'@behavior -*';

DROP POLICY IF EXISTS peer_staff_all ON client;
DROP POLICY IF EXISTS peer_portal_own ON client;
CREATE POLICY peer_staff_all ON client FOR SELECT TO agency_peer_staff USING (true);
CREATE POLICY peer_portal_own ON client FOR SELECT TO agency_peer_portal USING (id = peer_portal_client_id());

DROP POLICY IF EXISTS peer_staff_all ON project;
DROP POLICY IF EXISTS peer_portal_own ON project;
CREATE POLICY peer_staff_all ON project FOR SELECT TO agency_peer_staff USING (true);
CREATE POLICY peer_portal_own ON project FOR SELECT TO agency_peer_portal
  USING (client_id = peer_portal_client_id());

DROP POLICY IF EXISTS peer_staff_all ON task;
DROP POLICY IF EXISTS peer_portal_own ON task;
CREATE POLICY peer_staff_all ON task FOR SELECT TO agency_peer_staff USING (true);
CREATE POLICY peer_portal_own ON task FOR SELECT TO agency_peer_portal
  USING (visible_to_client AND project_id IN (SELECT p.id FROM project p WHERE p.client_id = peer_portal_client_id()));

-- Computed columns (PostGraphile exposes client_<name>(client) as Client.<name>), the same
-- figures as bench/run.py's hand-written floor of the Clients list page.

-- The API's default order of clients: lower(name), then id.
CREATE OR REPLACE FUNCTION client_sort_name(c client) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT lower(c.name) $$;
COMMENT ON FUNCTION client_sort_name(client) IS E'@behavior +orderBy';

CREATE OR REPLACE FUNCTION client_primary_contact(c client) RETURNS contact
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT * FROM contact WHERE contact.client_id = c.id AND contact.is_primary LIMIT 1 $$;

CREATE OR REPLACE FUNCTION client_active_project_count(c client) RETURNS integer
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT count(*)::integer FROM project p WHERE p.client_id = c.id AND p.status = 'ACTIVE' $$;

CREATE OR REPLACE FUNCTION client_outstanding_amount(c client) RETURNS numeric
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$
    SELECT (SELECT coalesce(sum(l.amount + l.tax_amount), 0) FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
             WHERE i.client_id = c.id AND i.status = 'SENT')
         - (SELECT coalesce(sum(y.amount), 0) FROM payment y JOIN invoice i ON i.id = y.invoice_id
             WHERE i.client_id = c.id AND i.status = 'SENT')
  $$;

CREATE OR REPLACE FUNCTION client_account_value(c client) RETURNS numeric
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$
    SELECT coalesce(sum(y.amount), 0) FROM payment y JOIN invoice i ON i.id = y.invoice_id
     WHERE i.client_id = c.id AND i.status <> 'VOID'
  $$;

GRANT EXECUTE ON FUNCTION peer_portal_client_id(), client_sort_name(client), client_primary_contact(client),
  client_active_project_count(client), client_outstanding_amount(client), client_account_value(client)
  TO agency_peer_staff, agency_peer_portal;
