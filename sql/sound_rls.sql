-- Soundness: row-level security on the profile table.  A role sees only the
-- profiles its policies let it read, however warm the session's cache is: a
-- profile it cannot see does not exist for it (42704), icp_segment without
-- names uses the visible active profiles only, and the default profile is
-- looked up among the visible rows.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
DROP ROLE IF EXISTS regress_icp_snd_tenant_a;
DROP ROLE IF EXISTS regress_icp_snd_tenant_b;
RESET client_min_messages;

CREATE TABLE tnt_leads (id int PRIMARY KEY, industry text, employees int, country text);
INSERT INTO tnt_leads
SELECT g, (ARRAY['software', 'retail', 'fintech'])[1 + g % 3], (g * 97) % 1200,
       (ARRAY['DE', 'FR', 'US', 'DE'])[1 + g % 4]
  FROM generate_series(1, 30) g;
INSERT INTO icp_profiles (name, kind, active, is_default) VALUES
    ('tenant_a-fit', 'ideal', true, false),
    ('tenant_a-off', 'ideal', false, false),
    ('tenant_b-fit', 'ideal', true, true),
    ('tenant_b-x', 'exclude', true, false);
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('tenant_a-fit', 'industry = ''software''', 50),
    ('tenant_a-fit', 'employees > 500', 50),
    ('tenant_a-off', 'country = ''FR''', 10),
    ('tenant_b-fit', 'country = ''DE''', 70),
    ('tenant_b-fit', 'employees > 100', 30),
    ('tenant_b-x', 'employees < 30', 100);

CREATE ROLE regress_icp_snd_tenant_a;
CREATE ROLE regress_icp_snd_tenant_b;
GRANT SELECT ON tnt_leads, icp_profiles, icp_criteria TO regress_icp_snd_tenant_a, regress_icp_snd_tenant_b;
ALTER TABLE icp_profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY tnt_a ON icp_profiles TO regress_icp_snd_tenant_a USING (name LIKE 'tenant_a%');
CREATE POLICY tnt_b ON icp_profiles TO regress_icp_snd_tenant_b USING (name LIKE 'tenant_b%');

-- The fits and segments a user would compute by hand: fa and fb are the
-- fits of tenant_a-fit and tenant_b-fit; tenant_b-x matches employees < 30.
CREATE VIEW tnt_want AS
SELECT l, fa, fb,
       CASE WHEN employees < 30 THEN 'tenant_b-x'
            WHEN greatest(fa, fb) >= 40 THEN CASE WHEN fa >= fb THEN 'tenant_a-fit' ELSE 'tenant_b-fit' END
       END AS seg_all,
       CASE WHEN fa >= 40 THEN 'tenant_a-fit' END AS seg_a,
       CASE WHEN employees < 30 THEN 'tenant_b-x' WHEN fb >= 40 THEN 'tenant_b-fit' END AS seg_b
  FROM (SELECT l, l.employees,
               CASE WHEN industry = 'software' THEN 50 ELSE 0 END
             + CASE WHEN employees > 500 THEN 50 ELSE 0 END AS fa,
               CASE WHEN country = 'DE' THEN 70 ELSE 0 END
             + CASE WHEN employees > 100 THEN 30 ELSE 0 END AS fb
          FROM tnt_leads l) s;
GRANT SELECT ON tnt_want TO regress_icp_snd_tenant_a, regress_icp_snd_tenant_b;

-- Calls naming one profile: 'ok' or the SQLSTATE.
CREATE FUNCTION pg_temp.calls_naming(p text) RETURNS TABLE (call text, outcome text)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('icp_fit(row, name)', 'SELECT icp_fit(l, %L) FROM tnt_leads l'),
        ('icp_fit(whole row, name)', 'SELECT icp_fit(x, %L) FROM (SELECT * FROM tnt_leads OFFSET 0) x'),
        ('icp_fit(jsonb, name)', 'SELECT icp_fit(''{"employees": 1}''::jsonb, %L)'),
        ('icp_grade(row, name)', 'SELECT icp_grade(l, %L) FROM tnt_leads l'),
        ('icp_score(row, name)', 'SELECT icp_score(l, %L) FROM tnt_leads l'),
        ('icp_explain(row, name)', 'SELECT e.* FROM tnt_leads l, icp_explain(l, %L) e'),
        ('icp_outcomes(row, name)', 'SELECT icp_outcomes(l, %L) FROM tnt_leads l'),
        ('icp_segment(row, names)', 'SELECT icp_segment(l, ARRAY[%L]) FROM tnt_leads l'),
        ('icp_profile(name)', 'SELECT icp_profile(%L)')
    ) AS v(label, q) LOOP
        call := c.label;
        BEGIN
            EXECUTE format(c.q, p);
            outcome := 'ok';
        EXCEPTION WHEN OTHERS THEN
            outcome := SQLSTATE;
        END;
        RETURN NEXT;
    END LOOP;
END $$;

-- 1. The superuser (who bypasses row-level security) warms every cache.
SELECT p, count(*) FILTER (WHERE c.outcome = 'ok') AS ok_calls
  FROM unnest(ARRAY['tenant_a-fit', 'tenant_a-off', 'tenant_b-fit', 'tenant_b-x']) p,
       pg_temp.calls_naming(p) c
 GROUP BY p ORDER BY p;
SELECT bool_and(icp_fit(w.l, 'tenant_a-fit') = fa AND icp_fit(w.l, 'tenant_b-fit') = fb
                AND icp_fit(w.l) = fb
                AND icp_segment(w.l) IS NOT DISTINCT FROM seg_all) AS superuser_answers_agree
  FROM tnt_want w;

-- 2. Tenant a: tenant b's profiles do not exist for it.
SET ROLE regress_icp_snd_tenant_a;
SELECT name FROM icp_profiles ORDER BY name;
SELECT * FROM pg_temp.calls_naming('tenant_b-fit');
SELECT call, outcome FROM pg_temp.calls_naming('tenant_b-x') WHERE outcome <> '42704';
SELECT call, outcome FROM pg_temp.calls_naming('tenant_a-off') WHERE outcome <> 'ok';
\set VERBOSITY sqlstate
SELECT icp_segment(l, ARRAY['tenant_a-fit', 'tenant_b-x']) FROM tnt_leads l;
\set VERBOSITY default
-- its default profile is its only visible active one; its segments use the
-- visible active profiles only
SELECT bool_and(icp_fit(w.l) = fa) AS default_is_tenant_a_fit,
       bool_and(icp_grade(w.l) = icp_grade(w.l, 'tenant_a-fit')) AS default_grade_agrees,
       bool_and(icp_segment(w.l) IS NOT DISTINCT FROM seg_a) AS segment_agrees,
       count(*) FILTER (WHERE icp_segment(w.l) IS NOT DISTINCT FROM seg_all) < count(*) AS differs_from_superuser
  FROM tnt_want w;
SELECT icp_segment('{"employees": 10, "industry": "software"}'::jsonb) AS jsonb_segment,
       icp_fit('{"employees": 10, "industry": "software"}'::jsonb) AS jsonb_default_fit;

-- 3. Tenant b, right after tenant a in the same session.
SET ROLE regress_icp_snd_tenant_b;
SELECT name FROM icp_profiles ORDER BY name;
SELECT call, outcome FROM pg_temp.calls_naming('tenant_a-fit') WHERE outcome <> '42704';
SELECT call, outcome FROM pg_temp.calls_naming('tenant_b-fit') WHERE outcome <> 'ok';
SELECT bool_and(icp_fit(w.l) = fb) AS default_is_tenant_b_fit,
       bool_and(icp_segment(w.l) IS NOT DISTINCT FROM seg_b) AS segment_agrees
  FROM tnt_want w;
SELECT icp_segment('{"employees": 10, "industry": "software"}'::jsonb) AS jsonb_segment;

-- 4. Tenant a again (its own results were computed before tenant b's).
SET ROLE regress_icp_snd_tenant_a;
SELECT count(*) AS refused FROM pg_temp.calls_naming('tenant_b-fit') WHERE outcome = '42704';
SELECT bool_and(icp_fit(w.l) = fa) AS default_is_tenant_a_fit,
       bool_and(icp_segment(w.l) IS NOT DISTINCT FROM seg_a) AS segment_agrees
  FROM tnt_want w;
RESET ROLE;

-- 5. The superuser, after both tenants: every profile, all three segments.
SELECT bool_and(icp_fit(w.l) = fb AND icp_segment(w.l) IS NOT DISTINCT FROM seg_all)
       AS superuser_answers_agree
  FROM tnt_want w;

-- 6. A policy widened while the caches are warm is seen at once.
ALTER POLICY tnt_a ON icp_profiles USING (name LIKE 'tenant_%');
SET ROLE regress_icp_snd_tenant_a;
SELECT call, outcome FROM pg_temp.calls_naming('tenant_b-fit') WHERE outcome <> 'ok';
SELECT bool_and(icp_fit(w.l) = fb AND icp_segment(w.l) IS NOT DISTINCT FROM seg_all)
       AS tenant_a_now_sees_all
  FROM tnt_want w;
RESET ROLE;

DROP POLICY tnt_a ON icp_profiles;
DROP POLICY tnt_b ON icp_profiles;
ALTER TABLE icp_profiles DISABLE ROW LEVEL SECURITY;
DROP VIEW tnt_want;
DROP TABLE tnt_leads;
DELETE FROM icp_profiles WHERE name LIKE 'tenant\_%';
REVOKE ALL ON icp_profiles, icp_criteria FROM regress_icp_snd_tenant_a, regress_icp_snd_tenant_b;
DROP ROLE regress_icp_snd_tenant_a;
DROP ROLE regress_icp_snd_tenant_b;
