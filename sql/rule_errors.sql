--
-- rule_errors: what a user sees for every kind of malformed rule, and how
-- the binary input rejects corrupt values.  Sizes and nesting limits too.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

-- messages with detail and hint; the SQLSTATEs are listed further down
\set VERBOSITY default

-- syntax errors name the token and the rule; the detail gives the position
SELECT 'employees BETWEN 5 AND 10'::icp_rule;
SELECT 'employees > '::icp_rule;
SELECT ''::icp_rule;
SELECT '   '::icp_rule;
SELECT '5 = employees'::icp_rule;
SELECT '= 5'::icp_rule;
SELECT 'and = 1'::icp_rule;
SELECT 'a = 1 AND AND b = 2'::icp_rule;
SELECT 'a = 1 b = 2'::icp_rule;
SELECT 'a = 1 AND'::icp_rule;
SELECT 'a == 1'::icp_rule;
SELECT 'a => 1'::icp_rule;
SELECT 'a ! 1'::icp_rule;
SELECT 'a = 1 # b'::icp_rule;
SELECT 'a = 1; DROP TABLE x'::icp_rule;
SELECT 'a = b'::icp_rule;
SELECT 'a = "software"'::icp_rule;
SELECT 'a = NULL'::icp_rule;
SELECT 'a = - ''x'''::icp_rule;
SELECT 'a = 5abc'::icp_rule;
SELECT 'a = 1e'::icp_rule;
SELECT 'a. = 1'::icp_rule;
SELECT 'a.5 = 1'::icp_rule;
SELECT '.a = 1'::icp_rule;
-- parentheses
SELECT '(a = 1'::icp_rule;
SELECT 'a = 1)'::icp_rule;
SELECT '()'::icp_rule;
SELECT '(a) = 1'::icp_rule;
-- operator forms
SELECT 'a NOT = 1'::icp_rule;
SELECT 'a IS MAYBE'::icp_rule;
SELECT 'a IS NOT'::icp_rule;
SELECT 'a IS NOT IN (1)'::icp_rule;
SELECT 'a IN 1'::icp_rule;
SELECT 'a IN ()'::icp_rule;
SELECT 'a IN (1 2)'::icp_rule;
SELECT 'a IN (1,)'::icp_rule;
SELECT 'a IN (1, 2'::icp_rule;
SELECT 'a BETWEEN 1'::icp_rule;
SELECT 'a BETWEEN 1 OR 2'::icp_rule;
SELECT 'a CONTAINS'::icp_rule;
SELECT 'a CONTAINS ANY 1'::icp_rule;
SELECT 'a CONTAINS ALL ()'::icp_rule;
SELECT 'a !~ ''x'''::icp_rule;
-- LIKE, ILIKE, ~, ~* and WITHIN take a string
SELECT 'a LIKE 5'::icp_rule;
SELECT 'a ILIKE b'::icp_rule;
SELECT 'a ~ 1'::icp_rule;
SELECT 'a ~* TRUE'::icp_rule;
SELECT 'a WITHIN 30'::icp_rule;
-- unterminated quotes and empty identifiers
SELECT 'a = ''abc'::icp_rule;
SELECT 'a = ''it''''s'::icp_rule;
SELECT '"abc = 1'::icp_rule;
SELECT '"" = 1'::icp_rule;
SELECT 'meta."" = 1'::icp_rule;
-- patterns are validated when the rule is written
SELECT 'a ~ ''(('''::icp_rule;
SELECT 'a ~* ''[z-a]'''::icp_rule;
SELECT 'a ~ ''x{5,2}'''::icp_rule;
SELECT 'a LIKE ''50\'''::icp_rule;
SELECT 'a NOT ILIKE ''\'''::icp_rule;
SELECT 'a LIKE ''50\%'''::icp_rule;
-- WITHIN needs a valid, positive interval
SELECT 'a WITHIN ''30 dayz'''::icp_rule;
SELECT 'a WITHIN ''-30 days'''::icp_rule;
SELECT 'a WITHIN ''0'''::icp_rule;
SELECT 'a WITHIN ''1 month -40 days'''::icp_rule;
SELECT 'a WITHIN ''1 month -20 days'''::icp_rule;
-- ... of at most 1000 years (365250 days), as a whole and in each part, so
-- that now() minus it is always a valid timestamp
SELECT 'a WITHIN ''1000 years'''::icp_rule AS longest, 'a WITHIN ''365250 days'''::icp_rule AS in_days,
       'a WITHIN ''8766000 hours'''::icp_rule AS in_hours;
SELECT 'a WITHIN ''1000000 years'''::icp_rule;
SELECT 'a WITHIN ''1001 years'''::icp_rule;
SELECT 'a WITHIN ''365251 days'''::icp_rule;
SELECT 'a WITHIN ''1000 years 1 day'''::icp_rule;
SELECT 'a WITHIN ''1001 years -400 days'''::icp_rule;
SELECT 'a WITHIN ''178000000 years'''::icp_rule;
-- ... that reads the same under every IntervalStyle: sql_standard makes the
-- unsigned parts after a leading minus negative
SELECT 'a WITHIN ''-1 day 40 hours'''::icp_rule;
SELECT 'a WITHIN ''-1 year 13 months'''::icp_rule;
SELECT 'a WITHIN ''-1 day +40 hours'''::icp_rule AS explicit_signs,
       'a WITHIN ''1 day -1 hour'''::icp_rule AS no_leading_minus;
-- numbers must fit numeric
SELECT 'a = 1e1001'::icp_rule;
SELECT 'a = 1e-1001'::icp_rule;
SELECT length('a = 1e1000'::icp_rule::text) AS big_exponent_ok;
SELECT ('a = ' || repeat('9', 200000))::icp_rule;
-- the position counts characters, not bytes
SELECT 'ville = ''Zürich'' AND größe >< 5'::icp_rule;
-- long rules and tokens are cut short in messages
SELECT ('a = 1 AND ' || repeat('b = 2 AND ', 30) || 'c BETWEN 1 AND 2')::icp_rule;
SELECT ('a = 1 AND ' || repeat('x', 300) || ' = ')::icp_rule;
SELECT ('a = ''' || repeat('x', 300))::icp_rule;
-- attribute paths have at most 255 names
SELECT length((repeat('a.', 254) || 'a = 1')::icp_rule::text) AS path_255_ok;
SELECT (repeat('a.', 255) || 'a = 1')::icp_rule;
-- the SQLSTATE of each kind of error
CREATE FUNCTION pg_temp.sqlstate_of(rule text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rule::icp_rule;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
SELECT left(rule, 40) AS rule, pg_temp.sqlstate_of(rule) FROM (VALUES
    ('a = 1 AND c ^ 3'),
    ('a = ''open'),
    ('a ~ ''[z-a]'''),
    ('a LIKE ''\'''),
    ('a WITHIN ''soon'''),
    ('a WITHIN ''-1 day'''),
    ('a WITHIN ''1000000 years'''),
    ('a WITHIN ''-1 day 40 hours'''),
    ('a = 1e5000'),
    ('a = ' || repeat('9', 200000)),
    (repeat('(', 2000) || 'a = 1' || repeat(')', 2000)),
    (repeat('a.', 300) || 'a = 1')
) v(rule);
DROP FUNCTION pg_temp.sqlstate_of(text);

-- big inputs are linear: a 100,000-element IN list and a 1 MB rule
SELECT length(r::text) AS text_length, cardinality(icp_rule_attributes(r)) AS attributes,
       r = r::text::icp_rule AS round_trip
FROM (SELECT ('employees IN (' || string_agg(g::text, ', ') || ')')::icp_rule AS r
      FROM generate_series(1, 100000) g) s;
SELECT length(t) AS rule_bytes, length(t::icp_rule::text) AS canonical_bytes,
       cardinality(icp_rule_attributes(t::icp_rule)) AS attributes
FROM (SELECT string_agg('attr_' || (g % 500) || ' = ''v' || g || '''', ' OR ') AS t
      FROM generate_series(1, 50000) g) s;
SELECT length(('a = ''' || repeat('x', 1000000) || '''')::icp_rule::text) AS one_mb_string;
-- deep nesting is refused cleanly, at a fixed limit
SELECT (repeat('(', 100000) || 'a = 1' || repeat(')', 100000))::icp_rule;
SELECT (repeat('NOT ', 100000) || 'a = 1')::icp_rule;
SELECT (repeat('(a = 1 AND (b = 1 OR ', 600) || 'c = 1' || repeat('))', 600))::icp_rule;
SELECT (repeat('(', 999) || 'a = 1' || repeat(')', 999))::icp_rule AS deep_but_fine;
SELECT length((repeat('NOT ', 999) || 'a = 1')::icp_rule::text) AS nots_999;

-- binary input (COPY FORMAT binary, or a driver sending binary) is checked
-- like text.  receive() wraps a payload in a binary COPY stream and feeds it
-- to COPY FROM, which calls icp_rule_recv.
CREATE TEMP TABLE rule_received (r icp_rule);
CREATE FUNCTION pg_temp.receive(payload bytea) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    stream bytea := '\x5047434f50590aff0d0a00'::bytea          -- PGCOPY\n\377\r\n\0
                    || '\x0000000000000000'::bytea            -- flags, header extension
                    || '\x0001'::bytea                        -- one field
                    || int4send(length(payload)) || payload
                    || '\xffff'::bytea;                       -- trailer
    detail text;
BEGIN
    TRUNCATE rule_received;
    EXECUTE format('COPY rule_received FROM PROGRAM %L (FORMAT binary)',
                   'printf %s ' || translate(encode(stream, 'base64'), E'\n', '') || ' | base64 -d');
    RETURN (SELECT r::text FROM rule_received);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || ' / ' || detail;
END $$;
-- a valid value goes through; a non-canonical one comes out canonical
SELECT pg_temp.receive(icp_rule_send('a = 1 AND b IN (''x'', TRUE)'));
SELECT pg_temp.receive('\x01040100010000000161000000010100000003303037');   -- a = 007
SELECT pg_temp.receive('\x0104010001000000034142430000000101000000022d30'); -- "ABC" = -0
-- corrupt values are rejected with SQLSTATE 22P03, saying where and why
SELECT label, pg_temp.receive(decode(payload, 'hex')) FROM (VALUES
    ('empty'                     , ''),
    ('version 2'                 , '0204010001000000016100000001010000000131'),
    ('version only'              , '01'),
    ('unknown tag'               , '0109'),
    ('truncated'                 , '01040100010000000161000000010100000001'),
    ('trailing byte'             , '010401000100000001610000000101000000013100'),
    ('unknown op 20'             , '0104140001000000016100000001010000000131'),
    ('op 0'                      , '0104000001000000016100000001010000000131'),
    ('negated ='                 , '0104010101000000016100000001010000000131'),
    ('negated ~'                 , '01040e0101000000016100000001020000000178'),
    ('negation flag 2'           , '0104070201000000016100000001010000000131'),
    ('no attribute'              , '010401000000000001010000000131'),
    ('empty name'                , '01040100010000000000000001010000000131'),
    ('name length beyond end'    , '0104010001ffffffff'),
    ('name with NUL'             , '010401000100000002610000000001010000000131'),
    ('string not UTF-8'          , '0104010001000000016100000001020000000280ff'),
    ('= with 2 literals'         , '0104010001000000016100000002010000000131010000000132'),
    ('= with 0 literals'         , '0104010001000000016100000000'),
    ('IN with 0 literals'        , '0104070001000000016100000000'),
    ('BETWEEN with 1'            , '0104080001000000016100000001010000000131'),
    ('IS NULL with 1'            , '0104090001000000016100000001010000000131'),
    ('literal count beyond end'  , '010407000100000001617fffffff'),
    ('unknown literal type'      , '0104010001000000016100000001090000000131'),
    ('number not numeric'        , '0104010001000000016100000001010000000178'),
    ('number with exponent'      , '01040100010000000161000000010100000003316535'),
    ('number empty'              , '01040100010000000161000000010100000000'),
    ('bool length 2'             , '010401000100000001610000000103000000020101'),
    ('bool value 2'              , '0104010001000000016100000001030000000102'),
    ('LIKE with a number'        , '01040c0001000000016100000001010000000131'),
    ('AND of one'                , '01010000000104010001000000016100000001010000000131'),
    ('AND count beyond end'      , '0101ffffffff04010001000000016100000001010000000131'),
    ('AND in AND'                , '0101000000020100000002040100010000000161000000010100000001310401000100000001610000000101000000013104010001000000016100000001010000000131'),
    ('NOT without operand'       , '0103'),
    ('invalid regex'             , '01040e000100000001610000000102000000022828'),
    ('invalid interval'          , '010413000100000001610000000102000000037a7a7a'),
    ('interval of 1000000 years' , '0104130001000000016100000001020000000d' || encode(convert_to('1000000 years', 'UTF8'), 'hex')),
    ('interval by IntervalStyle' , '0104130001000000016100000001020000000f' || encode(convert_to('-1 day 40 hours', 'UTF8'), 'hex')),
    ('NOT 2000 deep'             , '01' || repeat('03', 2000) || '04090001000000016100000000')
) v(label, payload);

DROP TABLE rule_received;
DROP FUNCTION pg_temp.receive(bytea);

-- WITHIN and IntervalStyle: an accepted interval means the same in every
-- session, so scores do not depend on the session's IntervalStyle
CREATE TEMP TABLE within_seen (id int, seen timestamptz);
INSERT INTO within_seen VALUES (1, now() - interval '10 hours'), (2, now() - interval '20 hours');
SELECT id, icp_fit(s, '{"criteria": [{"rule": "seen WITHIN ''-1 day +40 hours''", "weight": 1}]}'::icp_profile) AS fit_postgres
  FROM within_seen s ORDER BY id;
SET IntervalStyle = sql_standard;
SELECT id, icp_fit(s, '{"criteria": [{"rule": "seen WITHIN ''-1 day +40 hours''", "weight": 1}]}'::icp_profile) AS fit_sql_standard
  FROM within_seen s ORDER BY id;
SELECT '{"criteria": [{"rule": "seen WITHIN ''-1 day 40 hours''", "weight": 1}]}'::icp_profile;
RESET IntervalStyle;

-- a rule stored before these checks (icp 0.1 accepted WITHIN '1000000 years')
-- is refused when its profile is compiled, naming the profile and criterion,
-- instead of failing on every row with "timestamp out of range"; fixing the
-- criterion makes the profile score again.  The old value is planted with a
-- binary-coercible cast, as only a value stored by 0.1 could be.
INSERT INTO icp_profiles (name) VALUES ('old-within');
BEGIN;
CREATE CAST (bytea AS icp_rule) WITHOUT FUNCTION;
INSERT INTO icp_criteria (id, profile, rule, weight)
VALUES (9001, 'old-within', ('\x0104130001000000047365656e00000001020000000d'::bytea
                       || convert_to('1000000 years', 'UTF8'))::icp_rule, 10);
DROP CAST (bytea AS icp_rule);
COMMIT;
SELECT rule FROM icp_criteria WHERE profile = 'old-within';
SELECT id, icp_fit(s, 'old-within') FROM within_seen s ORDER BY id;
SELECT id, icp_fit(s, (SELECT value FROM icp_profile_versions
                        WHERE profile = 'old-within' AND valid_to IS NULL)) FROM within_seen s ORDER BY id;
UPDATE icp_criteria SET rule = 'seen WITHIN ''15 hours''' WHERE profile = 'old-within';
SELECT id, icp_fit(s, 'old-within') FROM within_seen s ORDER BY id;
DELETE FROM icp_profiles WHERE name = 'old-within';
DELETE FROM icp_profile_versions WHERE profile = 'old-within';
DROP TABLE within_seen;
