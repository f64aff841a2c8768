#!/usr/bin/env bash
# Check: installing the oldest shipped version of icp and walking
# ALTER EXTENSION icp UPDATE to the newest gives the same objects (every
# member; functions with their markings, bodies and ACLs; types; operators;
# tables with their columns in order, ACLs, constraints, indexes and
# triggers) as a fresh install, and stored profiles keep scoring the same.
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

# Every member object by name; functions with their markings, language,
# support function, ACL and a digest of their body; types with their I/O
# functions and ACL; operators; tables (and views, sequences, composite
# types) with their columns in order, ACL, constraints, indexes and
# triggers (full definitions).  ACL items are sorted, so the order of
# GRANTs does not matter, only their result.
objects="
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'icp'),
members AS (SELECT d.classid, d.objid, d.objsubid FROM pg_depend d, ext
             WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
rels AS (SELECT c.* FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid)
SELECT 'member ' || pg_describe_object(classid, objid, objsubid) FROM members
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' returns ' || coalesce(pg_get_function_result(p.oid), '(procedure)')
       || ' ' || p.provolatile::text || p.proparallel::text || CASE WHEN p.proisstrict THEN ' strict' ELSE '' END
       || CASE WHEN p.prosecdef THEN ' secdef' ELSE '' END || ' ' || coalesce(array_to_string(p.proconfig, ','), '')
       || ' language ' || l.lanname || ' cost ' || p.procost || ' rows ' || p.prorows
       || ' support ' || p.prosupport::regproc || ' body ' || md5(p.prosrc || coalesce(p.probin, ''))
       || ' acl ' || coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(p.proacl) a), 'default')
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
UNION ALL
SELECT 'type ' || t.oid::regtype || ' ' || t.typtype::text || ' len ' || t.typlen || ' ' || t.typalign::text || t.typstorage::text
       || ' ' || t.typinput::regproc || ' ' || t.typoutput::regproc || ' ' || t.typreceive::regproc || ' ' || t.typsend::regproc
       || ' acl ' || coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(t.typacl) a), 'default')
FROM pg_type t JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
UNION ALL
SELECT 'operator ' || o.oid::regoperator || ' ' || o.oprcode::regproc || ' ' || o.oprcom::regoperator
       || ' ' || o.oprnegate::regoperator || ' ' || o.oprrest::regproc || ' ' || o.oprjoin::regproc
FROM pg_operator o JOIN members m ON m.classid = 'pg_operator'::regclass AND m.objid = o.oid
UNION ALL
SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' acl '
       || coalesce((SELECT string_agg(a::text, ',' ORDER BY a::text) FROM unnest(c.relacl) a), 'default')
FROM rels c
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attnum || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || ' ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
WHERE c.relkind IN ('r', 'v', 'c')
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE conrelid IN (SELECT oid FROM rels)
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM rels)
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgrelid IN (SELECT oid FROM rels)
UNION ALL
SELECT 'config ' || unnest(extconfig)::regclass FROM pg_extension WHERE extname = 'icp'
ORDER BY 1"
check "the walked database has the objects of a fresh install" "$(q "$walked" "$objects")" "$(q "$fresh" "$objects")"
check "objects were compared" "$(q "$fresh" "SELECT count(*) > 20 FROM ($objects) x")" "t"
check "no object line is empty" "$(q "$fresh" "SELECT count(*) FROM ($objects) x(x) WHERE x IS NULL")" "0"
# each kind of object is in the comparison
check "functions, ACLs, types, operators, tables, indexes and triggers were compared" \
	"$(q "$fresh" "SELECT string_agg(DISTINCT split_part(x, ' ', 1), ',') FROM ($objects) x(x)")" \
	"column,config,constraint,function,index,member,operator,relation,trigger,type"

q "$fresh" "INSERT INTO icp_profiles (name) VALUES ('kept'); INSERT INTO icp_criteria (profile, rule, weight) VALUES ('kept', 'employees BETWEEN 50 AND 1000', 2), ('kept', 'country IN (''DE'', ''AT'')', 1)" >/dev/null
score="SELECT string_agg(coalesce(icp_fit(jsonb_build_object('employees', e, 'country', c), 'kept')::text, 'null'), ',' ORDER BY e, c)
FROM unnest(ARRAY[10, 60, NULL]) e, unnest(ARRAY['DE', 'FR', NULL]) c"
check "a profile stored before the update scores like a fresh one" "$(q "$walked" "$score")" "$(q "$fresh" "$score")"
