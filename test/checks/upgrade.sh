#!/usr/bin/env bash
# Check: installing the oldest shipped version of icp and walking
# ALTER EXTENSION icp UPDATE to the newest gives the same objects (functions
# with their markings, types, tables with their columns in order,
# constraints) as a fresh install, and stored profiles keep scoring the same.
# Prints TAP-style lines; run by `make test`.
set -euo pipefail

fresh=icp_upgrade_fresh
walked=icp_upgrade_walked
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $fresh" -c "DROP DATABASE IF EXISTS $walked" >/dev/null 2>&1 || true' EXIT
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $fresh" -c "DROP DATABASE IF EXISTS $walked" \
	-c "CREATE DATABASE $fresh" -c "CREATE DATABASE $walked" >/dev/null 2>&1

q()
{
	psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# shellcheck source=test/checks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

versions=$(q postgres "SELECT string_agg(version, ' ' ORDER BY string_to_array(version, '.')::int[]) FROM pg_available_extension_versions WHERE name = 'icp'")
oldest=${versions%% *}
newest=$(q postgres "SELECT default_version FROM pg_available_extensions WHERE name = 'icp'")
echo "# shipped versions: $versions; walking $oldest -> $newest"

q "$fresh" "CREATE EXTENSION icp" >/dev/null
q "$walked" "CREATE EXTENSION icp VERSION '$oldest'" >/dev/null
# a profile stored under the oldest version must survive the walk
q "$walked" "INSERT INTO icp_profiles (name) VALUES ('kept'); INSERT INTO icp_criteria (profile, rule, weight) VALUES ('kept', 'employees BETWEEN 50 AND 1000', 2), ('kept', 'country IN (''DE'', ''AT'')', 1)" >/dev/null
q "$walked" "SET client_min_messages = warning; ALTER EXTENSION icp UPDATE" >/dev/null
check "update reaches the default version" "$(q "$walked" "SELECT extversion FROM pg_extension WHERE extname = 'icp'")" "$newest"

objects="
SELECT 'function ' || p.oid::regprocedure || ' returns ' || pg_get_function_result(p.oid)
       || ' ' || p.provolatile::text || p.proparallel::text || CASE WHEN p.proisstrict THEN ' strict' ELSE '' END
       || CASE WHEN p.prosecdef THEN ' secdef' ELSE '' END || ' ' || coalesce(array_to_string(p.proconfig, ','), '')
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'icp') AND d.deptype = 'e'
UNION ALL
SELECT 'type ' || t.oid::regtype FROM pg_type t JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'icp') AND d.deptype = 'e'
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attnum || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || ' ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'icp') AND d.deptype = 'e' AND c.relkind IN ('r', 'v', 'c')
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE conrelid IN (SELECT objid FROM pg_depend WHERE classid = 'pg_class'::regclass
    AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'icp') AND deptype = 'e')
UNION ALL
SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
    AND tgrelid IN (SELECT objid FROM pg_depend WHERE classid = 'pg_class'::regclass
    AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'icp') AND deptype = 'e')
UNION ALL
SELECT 'config ' || unnest(extconfig)::regclass FROM pg_extension WHERE extname = 'icp'
ORDER BY 1"
check "the walked database has the objects of a fresh install" "$(q "$walked" "$objects")" "$(q "$fresh" "$objects")"
check "objects were compared" "$(q "$fresh" "SELECT count(*) > 20 FROM ($objects) x")" "t"

q "$fresh" "INSERT INTO icp_profiles (name) VALUES ('kept'); INSERT INTO icp_criteria (profile, rule, weight) VALUES ('kept', 'employees BETWEEN 50 AND 1000', 2), ('kept', 'country IN (''DE'', ''AT'')', 1)" >/dev/null
score="SELECT string_agg(coalesce(icp_fit(jsonb_build_object('employees', e, 'country', c), 'kept')::text, 'null'), ',' ORDER BY e, c)
FROM unnest(ARRAY[10, 60, NULL]) e, unnest(ARRAY['DE', 'FR', NULL]) c"
check "a profile stored before the update scores like a fresh one" "$(q "$walked" "$score")" "$(q "$fresh" "$score")"
