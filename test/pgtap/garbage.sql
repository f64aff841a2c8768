-- Garbage in: mutated and random rules thrown at the parser and at binding.
-- Every one must either work (and then round-trip through text) or fail
-- with an expected SQLSTATE; the server must stay up throughout.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

SELECT plan(7);
SELECT setseed(0.77);

CREATE TEMP TABLE seeds (r text);
INSERT INTO seeds VALUES
    ('industry IN (''software'', ''fintech'')'),
    ('employees BETWEEN 50 AND 1000 AND NOT (country = ''US'' OR country IS NULL)'),
    ('tech_stack CONTAINS ANY (''salesforce'', ''hubspot'')'),
    ('last_seen WITHIN ''30 days'''),
    ('name ~* ''^ac.*(gmbh|ag)$'' OR name NOT LIKE ''%test%'''),
    ('meta.score >= -1.5e3 AND "Odd Name" <> ''it''''s'''),
    ('flag IS NOT TRUE AND revenue > +2500.5');

CREATE TEMP TABLE outcomes (rule text, sqlstate text, message text, round_trip boolean);

-- mutate: delete, insert or replace a character, cut, or splice two seeds
CREATE FUNCTION pg_temp.mutate(s text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    bits text[] := ARRAY['''', '"', '(', ')', ',', '.', ' ', '-', '+', 'e', '1', '0', 'NOT ',
                         ' AND ', ' OR ', ' IN ', ' BETWEEN ', ' IS ', 'NULL', ' CONTAINS ',
                         ' ANY ', ' ALL ', ' WITHIN ', '~', '*', '=', '<', '>', '!', '\', E'\t',
                         'ü', '''''', '""', 'TRUE', 'FALSE', ';', '%', '$', '9999999999999999999999'];
    n int := 1 + floor(random() * 4)::int;
    p int;
BEGIN
    FOR i IN 1 .. n LOOP
        p := 1 + floor(random() * greatest(length(s), 1))::int;
        CASE floor(random() * 5)::int
        WHEN 0 THEN s := overlay(s placing '' from p for 1);
        WHEN 1 THEN s := overlay(s placing bits[1 + floor(random() * array_length(bits, 1))::int] from p for 0);
        WHEN 2 THEN s := overlay(s placing bits[1 + floor(random() * array_length(bits, 1))::int] from p for 1);
        WHEN 3 THEN s := left(s, p);
        ELSE s := left(s, p) || (SELECT right(r, 1 + floor(random() * 20)::int) FROM seeds ORDER BY random() LIMIT 1);
        END CASE;
    END LOOP;
    RETURN s;
END $$;

DO $$
DECLARE
    r text;
    t text;
    st text;
    msg text;
BEGIN
    FOR i IN 1 .. 3000 LOOP
        SELECT pg_temp.mutate(seeds.r) INTO r FROM seeds ORDER BY random() LIMIT 1;
        BEGIN
            t := r::icp_rule::text;
            INSERT INTO outcomes VALUES (r, NULL, NULL, t::icp_rule::text = t);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
            INSERT INTO outcomes VALUES (r, st, msg, NULL);
        END;
    END LOOP;
END $$;

SELECT cmp_ok((SELECT count(*)::int FROM outcomes WHERE sqlstate IS NULL), '>', 100,
              'a good share of mutants still parse');
SELECT cmp_ok((SELECT count(*)::int FROM outcomes WHERE sqlstate IS NOT NULL), '>', 1000,
              'most mutants are rejected');
SELECT is((SELECT count(*)::int FROM outcomes WHERE sqlstate IS NULL AND NOT round_trip), 0,
          'every mutant that parses round-trips through its canonical text');
SELECT is((SELECT array_agg(DISTINCT sqlstate ORDER BY sqlstate) FROM outcomes
           WHERE sqlstate NOT IN ('42601', '22P02', '2201B', '22023', '22007', '22008', '22015',
                                  '22003', '22021', '54001')),
          NULL, 'every rejection has an expected SQLSTATE (syntax, invalid value, bad regex, ...)');

-- bind every parsed mutant to a table and score a few rows with it
CREATE TEMP TABLE g_accounts (industry text, employees int, country text, tech_stack text[],
                              last_seen date, name text, meta jsonb, "Odd Name" text,
                              flag boolean, revenue numeric);
INSERT INTO g_accounts VALUES
    ('software', 120, 'DE', '{salesforce}', current_date, 'Acme GmbH', '{"score": 3}', 'x', true, 10),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('retail', 5, 'US', '{}', current_date - 90, 'test inc', '{"score": "high"}', 'it''s', false, 1e9);
CREATE TEMP TABLE bind_outcomes (rule text, sqlstate text, message text);
DO $$
DECLARE
    o record;
    st text;
    msg text;
    n int;
BEGIN
    FOR o IN SELECT DISTINCT rule FROM outcomes WHERE sqlstate IS NULL LOOP
        BEGIN
            DELETE FROM icp_profiles WHERE name = 'garbage';
            INSERT INTO icp_profiles (name) VALUES ('garbage');
            INSERT INTO icp_criteria (profile, rule) VALUES ('garbage', o.rule::icp_rule);
            SELECT count(icp_fit(a, 'garbage')) + count(icp_fit(to_jsonb(a), 'garbage')) INTO n FROM g_accounts a;
            INSERT INTO bind_outcomes VALUES (o.rule, NULL, NULL);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
            INSERT INTO bind_outcomes VALUES (o.rule, st, msg);
        END;
    END LOOP;
END $$;

SELECT cmp_ok((SELECT count(*)::int FROM bind_outcomes), '>', 100, 'parsed mutants were bound and scored');
SELECT is((SELECT array_agg(DISTINCT sqlstate ORDER BY sqlstate) FROM bind_outcomes
           WHERE sqlstate NOT IN ('42703', '42883', '42804', '22P02', '22007', '22008', '22003',
                                  '2201B', '22023', '22021')),
          NULL, 'binding and scoring errors have expected SQLSTATEs (unknown column, no operator, bad literal, ...)');
SELECT is((SELECT count(*)::int FROM bind_outcomes WHERE sqlstate IS NOT NULL AND message NOT LIKE 'profile "garbage"%'
           AND sqlstate IN ('42703', '42883', '42804')),
          0, 'binding errors name the profile and criterion');

SELECT diag(format('%s: %s (%s)', sqlstate, message, left(rule, 60)))
FROM (SELECT * FROM outcomes WHERE sqlstate NOT IN ('42601', '22P02', '2201B', '22023', '22007', '22008', '22015', '22003', '22021', '54001')
      UNION ALL
      SELECT rule, sqlstate, message, NULL FROM bind_outcomes
      WHERE sqlstate NOT IN ('42703', '42883', '42804', '22P02', '22007', '22008', '22003', '2201B', '22023', '22021')
      LIMIT 5) x;

SELECT * FROM finish();
ROLLBACK;
