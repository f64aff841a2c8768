-- test/pgtap/segment.sql: segmentation, the scoring trigger, history and
-- the funnel, as assertions.  Run by `make test`.
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS icp;

SELECT plan(16);

INSERT INTO icp_profiles (name, kind) VALUES
    ('tap-ideal', 'ideal'), ('tap-other', 'ideal'), ('tap-anti', 'exclude');
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('tap-ideal', 'employees BETWEEN 50 AND 1000', 50, true),
    ('tap-ideal', 'country = ''DE''', 50, false),
    ('tap-other', 'employees > 100', 100, false),
    ('tap-anti', 'employees < 20', 100, true);

CREATE TEMP TABLE tap_leads (id int PRIMARY KEY, employees int, country text,
                             fit double precision, grade text, segment text);
CREATE TRIGGER tap_score BEFORE INSERT OR UPDATE ON tap_leads
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('tap-ideal', 'fit', 'grade', 'segment');
INSERT INTO tap_leads (id, employees, country)
SELECT g, (g * 13) % 1500, (ARRAY['DE', 'FR', NULL])[1 + g % 3] FROM generate_series(1, 500) g;

SELECT is(icp_segment('{"employees": 10}'::jsonb, '{tap-ideal,tap-other,tap-anti}'), 'tap-anti',
          'a matching exclude profile wins');
SELECT is(icp_segment('{"employees": 500, "country": "DE"}'::jsonb, '{tap-ideal,tap-other,tap-anti}'),
          'tap-ideal', 'else the ideal profile with the highest fit (100 beats 100 by name)');
SELECT is(icp_segment('{"employees": 2000}'::jsonb, '{tap-ideal,tap-other,tap-anti}'), 'tap-other',
          'a disqualified profile does not match');
SELECT is(icp_segment('{"employees": 60}'::jsonb, '{tap-other}'), NULL,
          'no matching profile: NULL');
SELECT throws_ok($$SELECT icp_segment('{}'::jsonb, '{tap-nope}')$$, '42704', NULL,
                 'an unknown profile is 42704');

SELECT is((SELECT count(*) FROM tap_leads l
            WHERE fit IS DISTINCT FROM icp_fit(l, 'tap-ideal')
               OR grade IS DISTINCT FROM icp_grade(l, 'tap-ideal')
               OR segment IS DISTINCT FROM icp_segment(l)), 0::bigint,
          'trigger-written fit, grade and segment equal the functions after INSERT');
UPDATE tap_leads SET employees = employees + 40 WHERE id % 2 = 0;
SELECT is((SELECT count(*) FROM tap_leads l
            WHERE fit IS DISTINCT FROM icp_fit(l, 'tap-ideal')
               OR grade IS DISTINCT FROM icp_grade(l, 'tap-ideal')), 0::bigint,
          '... and after UPDATE');

CREATE TEMP TABLE tap_bad (id int, fit text);
CREATE TRIGGER tap_bad_score BEFORE INSERT ON tap_bad
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('tap-ideal');
SELECT throws_ok('INSERT INTO tap_bad VALUES (1)', '42804', NULL, 'a fit column of a wrong type is 42804');
DROP TRIGGER tap_bad_score ON tap_bad;
CREATE TRIGGER tap_bad_score BEFORE INSERT ON tap_bad
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('tap-ideal', 'missing');
SELECT throws_ok('INSERT INTO tap_bad VALUES (1)', '42703', NULL, 'a missing column is 42703');
DROP TRIGGER tap_bad_score ON tap_bad;
CREATE TRIGGER tap_bad_score AFTER INSERT ON tap_bad
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('tap-ideal', 'missing');
SELECT throws_ok('INSERT INTO tap_bad VALUES (1)', '09000', NULL, 'an AFTER trigger is 09000');

SELECT is((SELECT count(*) FROM icp_profile_versions WHERE profile = 'tap-ideal'), 2::bigint,
           'created, then one statement added its criteria: two versions');
UPDATE icp_criteria SET weight = 10 WHERE profile = 'tap-ideal' AND NOT required;
SELECT is((SELECT count(*) FROM icp_profile_versions WHERE profile = 'tap-ideal' AND valid_to IS NULL),
          1::bigint, 'one current version');
SELECT is((SELECT icp_fit('{"employees": 60, "country": "FR"}'::jsonb, v.value) FROM icp_profile_versions v
            WHERE v.profile = 'tap-ideal' AND v.version = 2), 50::double precision,
          'an old version scores as it did');
SELECT is((SELECT icp_fit('{"employees": 60}'::jsonb, v.value) FROM icp_profile_versions v
            WHERE v.profile = 'tap-ideal' AND v.valid_to IS NULL),
          icp_fit('{"employees": 60}'::jsonb, 'tap-ideal'), 'the current version is the profile');

SELECT is((SELECT array_agg(pool ORDER BY step) FROM icp_funnel('tap-ideal', 'tap_leads')),
          (SELECT ARRAY[count(*) FILTER (WHERE o[1] IS NOT FALSE),
                        count(*) FILTER (WHERE o[1] IS NOT FALSE AND o[2])]
             FROM (SELECT icp_outcomes(l, 'tap-ideal') AS o FROM tap_leads l) x),
          'the funnel pools are the cumulative filters');
SELECT is((SELECT count(*) FROM icp_funnel('tap-ideal', 'tap_leads')), 2::bigint,
          'one funnel row per criterion');

SELECT * FROM finish();
ROLLBACK;
