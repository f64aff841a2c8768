#!/usr/bin/env bash
# Check: a database with profiles, criteria, profile values and scored tables
# survives pg_dump / pg_restore into a fresh database with identical scores.
# Prints TAP-style "ok" / "not ok" lines; run by `make test` against the
# throwaway cluster (PGHOST/PGPORT/PGUSER set).
set -euo pipefail

src=icp_dump_src
dst=icp_dump_dst
dump=$(mktemp)
trap 'rm -f "$dump"; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $src" -c "DROP DATABASE IF EXISTS $dst" >/dev/null 2>&1 || true' EXIT

# shellcheck source=test/checks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $src" -c "DROP DATABASE IF EXISTS $dst" \
	-c "CREATE DATABASE $src" -c "CREATE DATABASE $dst" >/dev/null 2>&1

psql -X -q -v ON_ERROR_STOP=1 -d "$src" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION icp;
CREATE TABLE leads (id int PRIMARY KEY, industry text, employees int, country text,
                    tech_stack text[], meta jsonb, won boolean, fit float8, grade text,
                    seen timestamptz);
INSERT INTO leads (id, industry, employees, country, tech_stack, meta)
SELECT g, (ARRAY['software', 'retail', 'fintech'])[1 + g % 3], g * 7 % 1500,
       (ARRAY['DE', 'FR', 'CH', NULL])[1 + g % 4], ARRAY['slack'] || CASE WHEN g % 2 = 0 THEN ARRAY['salesforce'] ELSE '{}' END,
       jsonb_build_object('score', g % 100)
FROM generate_series(1, 500) g;
UPDATE leads SET won = (id % 3 = 0) OR (industry = 'software' AND id % 2 = 0),
                 seen = CASE WHEN id % 5 <> 0 THEN '2020-01-01 00:00+00'::timestamptz + id * interval '1 day' END;
INSERT INTO icp_profiles (name, description, missing, is_default) VALUES
    ('mid-market', 'dumped and restored', 'penalize', true);
INSERT INTO icp_profiles (name, kind, model, bias, grade_thresholds) VALUES
    ('startup-sam', 'exclude', 'logistic', -1.5, '{70,50,30}');
INSERT INTO icp_criteria (profile, rule, weight, required, dimension, note) VALUES
    ('mid-market', 'industry IN (''software'', ''fintech'')', 30, false, 'firmographic', 'core'),
    ('mid-market', 'employees BETWEEN 50 AND 1000', 25, true, 'firmographic', NULL),
    ('mid-market', 'country IN (''DE'', ''AT'', ''CH'')', 10, false, NULL, NULL),
    ('mid-market', 'tech_stack CONTAINS ''salesforce''', 10, false, 'technographic', NULL),
    ('mid-market', 'meta.score >= 50', 5, false, 'behavioural', NULL),
    ('startup-sam', 'employees < 20', 2, false, NULL, NULL),
    ('startup-sam', '"tech_stack" CONTAINS ANY (''slack'', ''notion'')', 1, false, NULL, NULL);
-- a decaying criterion (0.3): a long half-life, so that the seconds between
-- the two databases' now() do not show in 6 decimals
INSERT INTO icp_criteria (profile, rule, weight, decay_on, half_life) VALUES
    ('startup-sam', 'meta.score < 30', 3, 'seen', '900 years');
SELECT rows_used FROM icp_learn('learned', 'leads', 'won', ARRAY['industry', 'employees', 'country']);
CREATE TRIGGER leads_score BEFORE INSERT OR UPDATE ON leads
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('mid-market', 'fit', 'grade');
UPDATE leads l SET fit = NULL;
CREATE TABLE kept_versions AS SELECT name, icp_profile(name) AS value FROM icp_profiles;
SQL

pg_dump -Fc -f "$dump" "$src"
if ! pg_restore --exit-on-error -d "$dst" "$dump" 2>/tmp/icp-restore.err; then
	echo "not ok 1 - pg_restore succeeds"
	cat /tmp/icp-restore.err
	exit 1
fi
check "pg_restore succeeds" ok ok

q()
{
	psql -X -qAt -d "$1" -c "$2"
}
check "profiles restored" "$(q "$dst" "SELECT string_agg(name || ':' || kind || ':' || model || ':' || is_default, ',' ORDER BY name) FROM icp_profiles")" \
	"$(q "$src" "SELECT string_agg(name || ':' || kind || ':' || model || ':' || is_default, ',' ORDER BY name) FROM icp_profiles")"
check "criteria restored with their ids" "$(q "$dst" "SELECT string_agg(id || ':' || rule::text || ':' || weight, ',' ORDER BY id) FROM icp_criteria")" \
	"$(q "$src" "SELECT string_agg(id || ':' || rule::text || ':' || weight, ',' ORDER BY id) FROM icp_criteria")"
check "profile values identical" "$(q "$dst" "SELECT string_agg(icp_profile(name)::text, ',' ORDER BY name) FROM icp_profiles")" \
	"$(q "$src" "SELECT string_agg(icp_profile(name)::text, ',' ORDER BY name) FROM icp_profiles")"
check "stored icp_profile values restored" "$(q "$dst" "SELECT count(*) FROM kept_versions k WHERE k.value::text = icp_profile(k.name)::text")" "3"
check "decay columns restored" "$(q "$dst" "SELECT string_agg(id || ':' || decay_on || ':' || half_life, ',' ORDER BY id) FROM icp_criteria WHERE decay_on IS NOT NULL")" \
	"$(q "$src" "SELECT string_agg(id || ':' || decay_on || ':' || half_life, ',' ORDER BY id) FROM icp_criteria WHERE decay_on IS NOT NULL")"
check "the decaying profile scores the same" "$(q "$dst" "SELECT sum(icp_fit(l, 'startup-sam'))::numeric(20,6) FROM leads l")" \
	"$(q "$src" "SELECT sum(icp_fit(l, 'startup-sam'))::numeric(20,6) FROM leads l")"
check "the learned profile scores the same" "$(q "$dst" "SELECT sum(icp_fit(l, 'learned'))::numeric(20,6) FROM leads l")" \
	"$(q "$src" "SELECT sum(icp_fit(l, 'learned'))::numeric(20,6) FROM leads l")"
check "profile history restored" "$(q "$dst" "SELECT count(*) FROM icp_profile_versions")" \
	"$(q "$src" "SELECT count(*) FROM icp_profile_versions")"
check "the restored trigger scores new rows" \
	"$(q "$dst" "INSERT INTO leads (id, industry, employees, country) VALUES (9999, 'software', 300, 'DE') RETURNING fit = icp_fit(leads, 'mid-market') AND grade = icp_grade(leads, 'mid-market')")" "t"
check "scores identical after restore" "$(q "$dst" "SELECT count(*) FROM leads l WHERE fit IS DISTINCT FROM icp_fit(l, 'mid-market') OR grade IS DISTINCT FROM icp_grade(l, 'mid-market')")" "0"
check "default profile still the default" "$(q "$dst" "SELECT count(*) FROM leads l WHERE icp_fit(l) IS DISTINCT FROM fit")" "0"
check "criterion ids continue after the restored ones" \
	"$(q "$dst" "INSERT INTO icp_criteria (profile, rule) VALUES ('startup-sam', 'employees > 1') RETURNING id > (SELECT max(id) FROM icp_criteria WHERE rule::text <> 'employees > 1')")" "t"
