#!/usr/bin/env bash
# Check: icp_notify_trigger, seen from a real listening session (psql, LISTEN).
# A second session inserts and updates leads (grades written by
# icp_score_trigger and by icp_rescore), changes rows without changing
# their grade, and rolls changes back.  The listener must receive exactly
# one notification per committed grade change, each a JSON payload naming
# the table and the row, with the old and new grade; none for unchanged
# grades, none for rollbacks.  The expected changes are logged by a plain
# PL/pgSQL trigger on the same table (rolled back with the rest).
set -euo pipefail

db=icp_notify
work=$(mktemp -d)
listener=
cleanup()
{
	exec 3>&- 2>/dev/null || true
	[[ -n $listener ]] && kill "$listener" 2>/dev/null || true
	rm -rf "$work"
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

q()
{
	psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"
}

psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION icp;
CREATE TABLE leads (id int PRIMARY KEY, name text, employees int, fit float8, grade text);
INSERT INTO icp_profiles (name) VALUES ('route');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('route', 'employees BETWEEN 50 AND 1000', 60),
    ('route', 'name LIKE ''A%''', 40);
CREATE TRIGGER leads_score BEFORE INSERT OR UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('route', 'fit', 'grade');
CREATE TABLE grade_outbox (id bigserial PRIMARY KEY, payload jsonb NOT NULL,
                           created_at timestamptz NOT NULL DEFAULT now());
CREATE TRIGGER leads_route AFTER INSERT OR UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('icp_grades', 'grade', '', 'grade_outbox');
-- the expected changes, logged in plain SQL
CREATE TABLE expected (n bigserial, id int, old_grade text, new_grade text);
CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.grade IS NOT NULL
       OR TG_OP = 'UPDATE' AND NEW.grade IS DISTINCT FROM OLD.grade THEN
        INSERT INTO expected (id, old_grade, new_grade)
        VALUES (NEW.id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.grade END, NEW.grade);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER leads_log AFTER INSERT OR UPDATE ON leads FOR EACH ROW EXECUTE FUNCTION log_change();
-- a table whose key is too long for a NOTIFY payload
CREATE TABLE huge (name text, employees int, fit float8, grade text);
CREATE TRIGGER huge_score BEFORE INSERT OR UPDATE ON huge
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('route', 'fit', 'grade');
CREATE TRIGGER huge_route AFTER INSERT OR UPDATE ON huge
    FOR EACH ROW EXECUTE FUNCTION icp_notify_trigger('icp_grades', 'grade', 'name', 'grade_outbox');
SQL

# the listening session: psql reading its commands from a fifo; it prints
# the notifications it has received after each command
mkfifo "$work/in"
psql -X -qAt -d "$db" <"$work/in" >"$work/out" 2>&1 &
listener=$!
exec 3>"$work/in"
echo "LISTEN icp_grades; SELECT 'ready';" >&3
for _ in $(seq 1 100); do grep -q '^ready$' "$work/out" && break; sleep 0.1; done
check "the listener is listening" "$(grep -c '^ready$' "$work/out")" "1"

# the writing session: changes, non-changes and rollbacks
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
INSERT INTO leads (id, name, employees) VALUES
    (1, 'Acme', 200), (2, 'Bolt', 200), (3, 'Cato', 5), (4, 'Axel', NULL), (5, 'Bert', 300);
-- attributes change, grades do not: no notification
UPDATE leads SET employees = 300 WHERE id = 1;
UPDATE leads SET name = 'Dora' WHERE id = 3;
-- a grade change rolled back: no notification
BEGIN;
UPDATE leads SET employees = 5 WHERE id = 1;
ROLLBACK;
-- a grade change in a rolled-back subtransaction, another one kept
BEGIN;
SAVEPOINT s;
UPDATE leads SET employees = 5 WHERE id = 2;
ROLLBACK TO SAVEPOINT s;
UPDATE leads SET name = 'Anna' WHERE id = 2;
COMMIT;
-- the same row changes grade twice in one transaction: two notifications
BEGIN;
UPDATE leads SET employees = 5 WHERE id = 1;
UPDATE leads SET employees = 200 WHERE id = 1;
COMMIT;
SQL
# grades written by icp_rescore after the weights move (committed batches):
# Bert (size only) falls from B to D
q "UPDATE icp_criteria SET weight = 20 WHERE profile = 'route' AND rule = 'employees BETWEEN 50 AND 1000'" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "SET client_min_messages = warning" \
	-c "CALL icp_rescore('leads', 'route', 'fit', 'grade', 2)" >/dev/null
# a huge key: the notification names the row by ctid instead
q "INSERT INTO huge VALUES (repeat('k', 9000), 200)" >/dev/null
# the last change: once its notification is in, all earlier ones are
q "UPDATE leads SET employees = 9 WHERE id = 4" >/dev/null

# wait until as many notifications arrived as changes were logged (+1: huge)
want=$(( $(q "SELECT count(*) FROM expected") + 1 ))
for i in $(seq 1 100); do
	echo "SELECT 'sync $i';" >&3
	sleep 0.1
	[[ $(grep -c '^Asynchronous notification' "$work/out" || true) -ge $want ]] && break
done
# one more round trip, so that anything sent after the marker would show
echo "SELECT 'done';" >&3
for _ in $(seq 1 50); do grep -q '^done$' "$work/out" && break; sleep 0.1; done

sed -n 's/^Asynchronous notification "icp_grades" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p' \
	"$work/out" >"$work/payloads"

# read the payloads back into the database, one line each, as text (JSON is
# parsed there: a payload that is not JSON makes the cast fail)
q "CREATE TABLE received (n serial, line text)" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
	-c "\\copy received (line) FROM '$work/payloads' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
check "every payload parses as JSON and names the table, the row and both grades" \
	"$(q "SELECT count(*) FILTER (WHERE p->>'schema' = 'public' AND p->>'table' IN ('leads', 'huge')
	              AND p ?& ARRAY['key', 'old_grade', 'new_grade', 'fit', 'profile', 'op', 'seq']
	              AND p->>'profile' = 'route') || ' of ' || count(*)
	      FROM (SELECT line::jsonb AS p FROM received) r")" \
	"$(wc -l <"$work/payloads" | tr -d ' ') of $(wc -l <"$work/payloads" | tr -d ' ')"

expected=$(q "SELECT string_agg(format('%s %s %s', id, coalesce(old_grade, '-'), coalesce(new_grade, '-')), E'\n' ORDER BY n) FROM expected")
got=$(q "SELECT string_agg(format('%s %s %s', p->'key'->>'id', coalesce(p->>'old_grade', '-'), coalesce(p->>'new_grade', '-')), E'\n' ORDER BY n)
         FROM (SELECT n, line::jsonb AS p FROM received) r WHERE p->>'table' = 'leads'")
check "exactly one notification per committed grade change, in order" "$got" "$expected"
check "the changes included inserts, icp_score_trigger and icp_rescore updates" \
	"$(q "SELECT count(*) >= 9 AND bool_or(id = 5 AND old_grade = 'B' AND new_grade = 'D') FROM expected")" "t"
check "no notification for the rolled-back changes (row 1 to D, row 2 to D)" \
	"$(q "SELECT count(*) FROM (SELECT line::jsonb AS p FROM received) r
	      WHERE p->'key'->>'id' = '2' AND p->>'old_grade' <> 'D' AND p->>'new_grade' = 'D'")" "0"
check "the fit in each payload is the row's fit after the change" \
	"$(q "SELECT string_agg(format('%s=%s', id, round(fit, 6)), ' ' ORDER BY id)
	      FROM (SELECT DISTINCT ON (p->'key'->>'id') (p->'key'->>'id')::int AS id, (p->>'fit')::numeric AS fit
	              FROM (SELECT n, line::jsonb AS p FROM received) r WHERE p->>'table' = 'leads'
	             ORDER BY p->'key'->>'id', n DESC) last")" \
	"$(q "SELECT string_agg(format('%s=%s', id, round(fit::numeric, 6)), ' ' ORDER BY id) FROM leads WHERE id IN (SELECT id FROM expected)")"
check "a key too long for NOTIFY gives way to the row's ctid; the outbox keeps it" \
	"$(q "SELECT format('%s %s %s', p->'key', p->>'key_too_long', p->>'ctid' = (SELECT ctid::text FROM huge))
	      FROM (SELECT line::jsonb AS p FROM received) r WHERE p->>'table' = 'huge'") $(q "SELECT length(payload->'key'->>'name') FROM grade_outbox WHERE payload->>'table' = 'huge'")" \
	"null true t 9000"
check "the outbox holds the same changes, drained with DELETE ... RETURNING" \
	"$(q "WITH d AS (DELETE FROM grade_outbox RETURNING id, payload) SELECT string_agg(format('%s %s %s', payload->'key'->>'id', coalesce(payload->>'old_grade', '-'), coalesce(payload->>'new_grade', '-')), E'\n' ORDER BY id) FROM d WHERE payload->>'table' = 'leads'")" \
	"$expected"
check "the outbox is empty once drained" "$(q "SELECT count(*) FROM grade_outbox")" "0"
