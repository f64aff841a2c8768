-- test/pgtap/schema.sql: the catalog objects the icp extension installs
-- (src/sql/*.sql): tables, columns, constraints, the icp_rule type and the
-- functions with their signatures and markings.  Run by `make test`.
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS icp;

SELECT plan(435);

-- ---------------------------------------------------------------------------
-- Tables and their columns, in order.
-- ---------------------------------------------------------------------------
SELECT has_table('icp_profiles');
SELECT has_table('icp_criteria');

SELECT is(
    ARRAY(SELECT attname::text FROM pg_catalog.pg_attribute
           WHERE attrelid = 'icp_profiles'::regclass AND attnum > 0 AND NOT attisdropped
           ORDER BY attnum),
    ARRAY['name', 'description', 'kind', 'model', 'bias', 'grade_thresholds',
          'missing', 'is_default', 'active', 'created_at', 'updated_at'],
    'icp_profiles has exactly these columns, in this order');
SELECT is(
    ARRAY(SELECT attname::text FROM pg_catalog.pg_attribute
           WHERE attrelid = 'icp_criteria'::regclass AND attnum > 0 AND NOT attisdropped
           ORDER BY attnum),
    ARRAY['id', 'profile', 'rule', 'weight', 'required', 'dimension', 'note',
          'created_at', 'decay_on', 'half_life'],
    'icp_criteria has exactly these columns, in this order');

-- One row per column: type, NOT NULL, default (NULL: no default).
CREATE TEMP TABLE expected_columns (tab name, col name, typ text, not_null bool, def text)
    ON COMMIT DROP;
INSERT INTO expected_columns VALUES
    ('icp_profiles', 'name',             'text',                     true,  NULL),
    ('icp_profiles', 'description',      'text',                     false, NULL),
    ('icp_profiles', 'kind',             'text',                     true,  'ideal'),
    ('icp_profiles', 'model',            'text',                     true,  'points'),
    ('icp_profiles', 'bias',             'double precision',         true,  '0'),
    ('icp_profiles', 'grade_thresholds', 'double precision[]',       true,  '{80,60,40}'),
    ('icp_profiles', 'missing',          'text',                     true,  'ignore'),
    ('icp_profiles', 'is_default',       'boolean',                  true,  'false'),
    ('icp_profiles', 'active',           'boolean',                  true,  'true'),
    ('icp_profiles', 'created_at',       'timestamp with time zone', true,  'now()'),
    ('icp_profiles', 'updated_at',       'timestamp with time zone', true,  'now()'),
    ('icp_criteria', 'id',               'bigint',                   true,
        'nextval(''icp_criteria_id_seq''::regclass)'),
    ('icp_criteria', 'profile',          'text',                     true,  NULL),
    ('icp_criteria', 'rule',             'icp_rule',                 true,  NULL),
    ('icp_criteria', 'weight',           'double precision',         true,  '1'),
    ('icp_criteria', 'required',         'boolean',                  true,  'false'),
    ('icp_criteria', 'dimension',        'text',                     false, NULL),
    ('icp_criteria', 'note',             'text',                     false, NULL),
    ('icp_criteria', 'created_at',       'timestamp with time zone', true,  'now()');

SELECT has_column(tab, col) FROM expected_columns;
SELECT col_type_is(tab, col, typ) FROM expected_columns;
SELECT CASE WHEN not_null THEN col_not_null(tab, col) ELSE col_is_null(tab, col) END
  FROM expected_columns;
SELECT CASE WHEN def IS NULL THEN col_hasnt_default(tab, col)
            ELSE col_default_is(tab, col, def) END
  FROM expected_columns;

-- ---------------------------------------------------------------------------
-- Keys, checks, indexes, triggers, pg_dump registration.
-- ---------------------------------------------------------------------------
SELECT col_is_pk('icp_profiles', 'name');
SELECT col_is_pk('icp_criteria', 'id');
SELECT fk_ok('icp_criteria', 'profile', 'icp_profiles', 'name');

-- (names compared as sorted arrays)
SELECT is(
    ARRAY(SELECT conname::text FROM pg_catalog.pg_constraint
           WHERE conrelid = 'icp_profiles'::regclass AND contype = 'c' ORDER BY 1),
    ARRAY['icp_profiles_bias_check', 'icp_profiles_grade_thresholds_check',
          'icp_profiles_kind_check', 'icp_profiles_missing_check',
          'icp_profiles_model_check', 'icp_profiles_name_check'],
    'icp_profiles has its check constraints');
SELECT is(
    ARRAY(SELECT conname::text FROM pg_catalog.pg_constraint
           WHERE conrelid = 'icp_criteria'::regclass AND contype = 'c' ORDER BY 1),
    ARRAY['icp_criteria_decay_check', 'icp_criteria_dimension_check',
          'icp_criteria_weight_check'],
    'icp_criteria has its check constraints');
SELECT col_has_check(tab, col)
  FROM (VALUES ('icp_profiles'::name, 'name'::name), ('icp_profiles', 'kind'),
               ('icp_profiles', 'model'), ('icp_profiles', 'bias'),
               ('icp_profiles', 'grade_thresholds'), ('icp_profiles', 'missing'),
               ('icp_criteria', 'weight'), ('icp_criteria', 'dimension')) AS t(tab, col);

SELECT has_index('icp_profiles', 'icp_profiles_one_default', 'is_default');
SELECT index_is_unique('icp_profiles', 'icp_profiles_one_default');
SELECT has_index('icp_criteria', 'icp_criteria_profile_idx', 'profile');

SELECT has_trigger('icp_profiles', 'icp_profiles_touch');
SELECT has_trigger('icp_profiles', 'icp_profiles_invalidate');
SELECT has_trigger('icp_criteria', 'icp_criteria_invalidate');
SELECT trigger_is('icp_profiles', 'icp_profiles_touch', 'icp_touch_updated_at');
SELECT trigger_is('icp_profiles', 'icp_profiles_invalidate', 'icp_profiles_changed');
SELECT trigger_is('icp_criteria', 'icp_criteria_invalidate', 'icp_profiles_changed');
SELECT has_trigger('icp_profiles', 'icp_profiles_check_bias');
SELECT has_trigger('icp_criteria', 'icp_criteria_check_weight');
SELECT trigger_is('icp_profiles', 'icp_profiles_check_bias', 'icp_check_weights');
SELECT trigger_is('icp_criteria', 'icp_criteria_check_weight', 'icp_check_weights');

-- Profile history: one statement trigger per event (transition tables name
-- the touched profiles), TRUNCATE without them, and the rename row trigger.
CREATE TEMP TABLE expected_history_triggers (tab name, trg name, fn name) ON COMMIT DROP;
INSERT INTO expected_history_triggers
SELECT t.tab, t.tab || '_history_' || e.event, 'icp_profiles_history'
  FROM unnest(ARRAY['icp_profiles', 'icp_criteria']::name[]) AS t(tab),
       unnest(ARRAY['insert', 'update', 'delete', 'truncate']) AS e(event);
INSERT INTO expected_history_triggers
VALUES ('icp_profiles', 'icp_profiles_history_rename', 'icp_profiles_history_rename');
SELECT has_trigger(tab, trg) FROM expected_history_triggers;
SELECT trigger_is(tab, trg, fn) FROM expected_history_triggers;
SELECT is(
    ARRAY(SELECT tgname || ' ' || coalesce(tgoldtable, '-') || ' ' || coalesce(tgnewtable, '-')
            FROM pg_catalog.pg_trigger
           WHERE tgfoid = 'icp_profiles_history()'::regprocedure ORDER BY 1),
    ARRAY['icp_criteria_history_delete icp_old -', 'icp_criteria_history_insert - icp_new',
          'icp_criteria_history_truncate - -', 'icp_criteria_history_update icp_old icp_new',
          'icp_profiles_history_delete icp_old -', 'icp_profiles_history_insert - icp_new',
          'icp_profiles_history_truncate - -', 'icp_profiles_history_update icp_old icp_new'],
    'the history statement triggers read the touched profiles from their transition tables');

SELECT is(
    ARRAY(SELECT c::regclass::text FROM pg_catalog.pg_extension e,
                 unnest(e.extconfig) AS c WHERE e.extname = 'icp' ORDER BY 1),
    ARRAY['icp_criteria', 'icp_criteria_id_seq', 'icp_profile_versions', 'icp_profiles'],
    'pg_dump keeps the rows of icp_profiles, icp_criteria and its sequence, icp_profile_versions');

-- ---------------------------------------------------------------------------
-- The types (icp_rule with its operator classes, icp_profile, the result
-- of icp_score).
-- ---------------------------------------------------------------------------
SELECT has_type('icp_rule');
SELECT has_type('icp_profile');
SELECT has_composite('icp_score_result');
SELECT has_opclass('icp_rule_btree_ops');
SELECT has_opclass('icp_rule_hash_ops');

-- ---------------------------------------------------------------------------
-- Functions: signature, result type, volatility, strictness.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE expected_functions (fn name, args name[], ret text, vol text, strict bool)
    ON COMMIT DROP;
INSERT INTO expected_functions VALUES
    ('icp_rule_in',            '{cstring}',            'icp_rule',         'immutable', true),
    ('icp_rule_out',           '{icp_rule}',           'cstring',          'immutable', true),
    ('icp_rule_recv',          '{internal}',           'icp_rule',         'immutable', true),
    ('icp_rule_send',          '{icp_rule}',           'bytea',            'immutable', true),
    ('icp_rule_eq',            '{icp_rule,icp_rule}',  'boolean',          'immutable', true),
    ('icp_rule_ne',            '{icp_rule,icp_rule}',  'boolean',          'immutable', true),
    ('icp_rule_lt',            '{icp_rule,icp_rule}',  'boolean',          'immutable', true),
    ('icp_rule_le',            '{icp_rule,icp_rule}',  'boolean',          'immutable', true),
    ('icp_rule_gt',            '{icp_rule,icp_rule}',  'boolean',          'immutable', true),
    ('icp_rule_ge',            '{icp_rule,icp_rule}',  'boolean',          'immutable', true),
    ('icp_rule_cmp',           '{icp_rule,icp_rule}',  'integer',          'immutable', true),
    ('icp_rule_hash',          '{icp_rule}',           'integer',          'immutable', true),
    ('icp_rule_hash_extended', '{icp_rule,bigint}',    'bigint',           'immutable', true),
    ('icp_rule_attributes',    '{icp_rule}',           'text[]',           'immutable', true),
    ('icp_touch_updated_at',   '{}',                   'trigger',          'volatile',  false),
    ('icp_profiles_changed',   '{}',                   'trigger',          'volatile',  false),
    ('icp_check_weights',      '{}',                   'trigger',          'volatile',  false),
    ('icp_profile_in',         '{cstring}',            'icp_profile',      'immutable', true),
    ('icp_profile_out',        '{icp_profile}',        'cstring',          'immutable', true),
    ('icp_profile_recv',       '{internal}',           'icp_profile',      'immutable', true),
    ('icp_profile_send',       '{icp_profile}',        'bytea',            'immutable', true),
    ('icp_profile',            '{text}',               'icp_profile',      'stable',    true),
    ('icp_profile',            '{unknown}',            'icp_profile',      'stable',    true),
    ('icp_fit',                '{record}',             'double precision', 'stable',    true),
    ('icp_fit',                '{record,text}',        'double precision', 'stable',    true),
    ('icp_fit',                '{record,icp_profile}', 'double precision', 'stable',    true),
    ('icp_fit',                '{jsonb}',              'double precision', 'stable',    true),
    ('icp_fit',                '{jsonb,text}',         'double precision', 'stable',    true),
    ('icp_fit',                '{jsonb,icp_profile}',  'double precision', 'stable',    true),
    ('icp_grade',              '{record}',             'text',             'stable',    true),
    ('icp_grade',              '{record,text}',        'text',             'stable',    true),
    ('icp_grade',              '{record,icp_profile}', 'text',             'stable',    true),
    ('icp_grade',              '{jsonb}',              'text',             'stable',    true),
    ('icp_grade',              '{jsonb,text}',         'text',             'stable',    true),
    ('icp_grade',              '{jsonb,icp_profile}',  'text',             'stable',    true),
    ('icp_score',              '{record}',             'icp_score_result', 'stable',    true),
    ('icp_score',              '{record,text}',        'icp_score_result', 'stable',    true),
    ('icp_score',              '{record,icp_profile}', 'icp_score_result', 'stable',    true),
    ('icp_score',              '{jsonb}',              'icp_score_result', 'stable',    true),
    ('icp_score',              '{jsonb,text}',         'icp_score_result', 'stable',    true),
    ('icp_score',              '{jsonb,icp_profile}',  'icp_score_result', 'stable',    true),
    ('icp_explain',            '{record}',             'setof record',     'stable',    true),
    ('icp_explain',            '{record,text}',        'setof record',     'stable',    true),
    ('icp_explain',            '{record,icp_profile}', 'setof record',     'stable',    true),
    ('icp_explain',            '{jsonb}',              'setof record',     'stable',    true),
    ('icp_explain',            '{jsonb,text}',         'setof record',     'stable',    true),
    ('icp_explain',            '{jsonb,icp_profile}',  'setof record',     'stable',    true),
    ('icp_segment',            '{record}',             'text',             'stable',    true),
    ('icp_segment',            '{record,text[]}',      'text',             'stable',    true),
    ('icp_segment',            '{jsonb}',              'text',             'stable',    true),
    ('icp_segment',            '{jsonb,text[]}',       'text',             'stable',    true),
    ('icp_segment',            '{record,icp_profile[]}', 'text',           'stable',    true),
    ('icp_segment',            '{jsonb,icp_profile[]}', 'text',            'stable',    true),
    ('icp_segment',            '{record,text}',        'text',             'stable',    true),
    ('icp_segment',            '{jsonb,text}',         'text',             'stable',    true),
    ('icp_citus_setup',        '{}',                   'void',             'volatile',  false),
    ('icp_rescore_citus',      '{regclass,text,text,text,integer,boolean}', 'boolean', 'volatile', false),
    ('icp_rescore_fit',        '{record,icp_profile}', 'double precision', 'immutable', true),
    ('icp_rescore_grade',      '{record,icp_profile}', 'text',             'immutable', true),
    ('icp_score_trigger',      '{}',                   'trigger',          'volatile',  false),
    ('icp_notify_trigger',     '{}',                   'trigger',          'volatile',  false),
    ('icp_rescore_can_commit', '{}',                   'boolean',          'volatile',  false),
    ('icp_rescore',            '{regclass,text,text,text,integer}', 'void', 'volatile', false),
    ('icp_outcomes',           '{record,text}',        'boolean[]',        'stable',    true),
    ('icp_outcomes',           '{record,icp_profile}', 'boolean[]',        'stable',    true),
    ('icp_outcomes',           '{jsonb,text}',         'boolean[]',        'stable',    true),
    ('icp_outcomes',           '{jsonb,icp_profile}',  'boolean[]',        'stable',    true),
    ('icp_profile_criteria',   '{icp_profile}',        'setof record',     'immutable', true),
    ('icp_funnel',             '{text,regclass}',      'setof record',     'stable',    true),
    ('icp_profiles_history',   '{}',                   'trigger',          'volatile',  false),
    ('icp_profiles_history_rename', '{}',              'trigger',          'volatile',  false),
    ('icp_learn',              '{text,regclass,text,text[],jsonb}', 'record', 'volatile', false),
    ('icp_outcome_expression', '{regclass,text}',      'text',             'stable',    false),
    ('icp_evaluate',           '{text,regclass,text}', 'record',           'stable',    false),
    ('icp_lift',               '{text,regclass,text,integer}', 'setof record', 'stable', false);

SELECT has_function(fn, args) FROM expected_functions;
SELECT function_returns(fn, args, ret) FROM expected_functions;
SELECT volatility_is(fn, args, vol) FROM expected_functions;
SELECT CASE WHEN strict THEN is_strict(fn, args) ELSE isnt_strict(fn, args) END
  FROM expected_functions;

-- The functions of the extension (members of it).
CREATE TEMP VIEW icp_functions AS
SELECT p.*
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_proc p ON d.classid = 'pg_catalog.pg_proc'::regclass AND p.oid = d.objid
 WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'icp')
   AND d.deptype = 'e';

-- No function is SECURITY DEFINER (README, Security and privileges; the
-- comment in icp.control): every function runs with the caller's rights.
SELECT is(
    ARRAY(SELECT p.oid::regprocedure::text
            FROM icp_functions p
           WHERE p.prosecdef
           ORDER BY 1),
    '{}'::text[],
    'no icp function is SECURITY DEFINER');

-- EXECUTE is revoked from PUBLIC exactly on the internal functions nobody
-- calls by name (README, Function reference), the planner rewrite's
-- icp_*_columns included.
SELECT is(
    ARRAY(SELECT p.oid::regprocedure::text
            FROM icp_functions p
           WHERE NOT pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE')
           ORDER BY p.oid::regprocedure::text COLLATE "C"),
    ARRAY['icp_check_weights()', 'icp_fit_columns("any")', 'icp_grade_columns("any")',
          'icp_profiles_changed()', 'icp_profiles_history()', 'icp_profiles_history_rename()',
          'icp_score_columns("any")', 'icp_segment_columns("any")',
          'icp_support(internal)', 'icp_touch_updated_at()'],
    'internal functions are not executable by PUBLIC');

-- Every function, table and type of the extension has a COMMENT.
SELECT is(
    ARRAY(SELECT p.oid::regprocedure::text
            FROM icp_functions p
           WHERE pg_catalog.obj_description(p.oid, 'pg_proc') IS NULL
           ORDER BY 1),
    '{}'::text[],
    'every icp function has a comment');
SELECT is(
    ARRAY(SELECT t.oid::regtype::text
            FROM pg_catalog.pg_depend d
            JOIN pg_catalog.pg_type t ON d.classid = 'pg_catalog.pg_type'::regclass
                                     AND t.oid = d.objid
           WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
             AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'icp')
             AND d.deptype = 'e'
             AND pg_catalog.obj_description(t.oid, 'pg_type') IS NULL
             -- array types and the row types of tables come with their
             -- element type or table (and newer versions, 17 here, record them as
             -- members too)
             AND NOT EXISTS (SELECT FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)
             AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_catalog.pg_class c
                                      WHERE c.oid = t.typrelid) = 'c')
          UNION ALL
          SELECT c.oid::regclass::text
            FROM pg_catalog.pg_depend d
            JOIN pg_catalog.pg_class c ON d.classid = 'pg_catalog.pg_class'::regclass
                                      AND c.oid = d.objid
           WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
             AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'icp')
             AND d.deptype = 'e'
             AND c.relkind IN ('r', 'p', 'v', 'm')
             AND pg_catalog.obj_description(c.oid, 'pg_class') IS NULL
           ORDER BY 1),
    '{}'::text[],
    'every icp table and type has a comment');

SELECT * FROM finish();
ROLLBACK;
