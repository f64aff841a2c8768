-- Soundness: privileges hold with a warm profile cache.  Scoring by profile
-- name (or with the default profile) needs SELECT on icp_profiles and
-- icp_criteria at every call, whoever compiled the profile earlier in the
-- session: another role before SET ROLE or SET SESSION AUTHORIZATION, or a
-- SECURITY DEFINER function.  Scoring with a profile value needs no table
-- privilege at all.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
DROP ROLE IF EXISTS regress_icp_snd_nobody;
DROP ROLE IF EXISTS regress_icp_snd_half;
DROP ROLE IF EXISTS regress_icp_snd_reader;
RESET client_min_messages;

CREATE TABLE snd_leads (id int PRIMARY KEY, industry text, employees int);
INSERT INTO snd_leads
SELECT g, (ARRAY['software', 'retail', 'fintech'])[1 + g % 3], (g * 37) % 1500
  FROM generate_series(1, 40) g;
INSERT INTO icp_profiles (name, kind, is_default) VALUES
    ('snd-roles', 'ideal', true), ('snd-roles-x', 'exclude', false);
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('snd-roles', 'industry = ''software''', 60),
    ('snd-roles', 'employees BETWEEN 50 AND 1000', 40),
    ('snd-roles-x', 'employees < 20', 10);

CREATE ROLE regress_icp_snd_nobody;     -- may read the leads, not the profiles
CREATE ROLE regress_icp_snd_half;       -- may read icp_profiles but not icp_criteria
CREATE ROLE regress_icp_snd_reader;     -- may read both profile tables
GRANT SELECT ON snd_leads TO regress_icp_snd_nobody, regress_icp_snd_half, regress_icp_snd_reader;
GRANT SELECT ON icp_profiles TO regress_icp_snd_half, regress_icp_snd_reader;
GRANT SELECT ON icp_criteria TO regress_icp_snd_reader;

-- Every way of naming a profile: run each call, report 'ok' or its SQLSTATE.
CREATE FUNCTION pg_temp.by_name_calls() RETURNS TABLE (call text, outcome text)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM (VALUES
        ('icp_fit(row, name)', $q$SELECT icp_fit(l, 'snd-roles') FROM snd_leads l$q$),
        ('icp_fit(whole row, name)', $q$SELECT icp_fit(x, 'snd-roles') FROM (SELECT * FROM snd_leads OFFSET 0) x$q$),
        ('icp_fit(jsonb, name)', $q$SELECT icp_fit('{"industry": "software"}'::jsonb, 'snd-roles')$q$),
        ('icp_fit(row) default', $q$SELECT icp_fit(l) FROM snd_leads l$q$),
        ('icp_fit(jsonb) default', $q$SELECT icp_fit('{"employees": 70}'::jsonb)$q$),
        ('icp_grade(row, name)', $q$SELECT icp_grade(l, 'snd-roles') FROM snd_leads l$q$),
        ('icp_grade(row) default', $q$SELECT icp_grade(l) FROM snd_leads l$q$),
        ('icp_score(row, name)', $q$SELECT icp_score(l, 'snd-roles') FROM snd_leads l$q$),
        ('icp_explain(row, name)', $q$SELECT e.* FROM snd_leads l, icp_explain(l, 'snd-roles') e$q$),
        ('icp_outcomes(row, name)', $q$SELECT icp_outcomes(l, 'snd-roles') FROM snd_leads l$q$),
        ('icp_segment(row, names)', $q$SELECT icp_segment(l, ARRAY['snd-roles', 'snd-roles-x']) FROM snd_leads l$q$),
        ('icp_segment(row) active', $q$SELECT icp_segment(l) FROM snd_leads l$q$),
        ('icp_segment(jsonb) active', $q$SELECT icp_segment('{"employees": 5}'::jsonb)$q$),
        ('icp_profile(name)', $q$SELECT icp_profile('snd-roles')$q$)
    ) AS v(label, q) LOOP
        call := c.label;
        BEGIN
            EXECUTE c.q;
            outcome := 'ok';
        EXCEPTION WHEN OTHERS THEN
            outcome := SQLSTATE;
        END;
        RETURN NEXT;
    END LOOP;
END $$;

-- The answers a user would compute by hand, next to icp's.
CREATE FUNCTION pg_temp.answers_agree() RETURNS boolean LANGUAGE sql AS $$
    SELECT bool_and(icp_fit(l, 'snd-roles') = want
                    AND icp_fit(l) = want
                    AND icp_grade(l, 'snd-roles') = CASE WHEN want >= 80 THEN 'A' WHEN want >= 60 THEN 'B'
                                                         WHEN want >= 40 THEN 'C' ELSE 'D' END
                    AND icp_segment(l, ARRAY['snd-roles', 'snd-roles-x']) IS NOT DISTINCT FROM
                        CASE WHEN employees < 20 THEN 'snd-roles-x' WHEN want >= 40 THEN 'snd-roles' END)
      FROM (SELECT l, l.employees,
                   CASE WHEN industry = 'software' THEN 60 ELSE 0 END
                 + CASE WHEN employees BETWEEN 50 AND 1000 THEN 40 ELSE 0 END AS want
              FROM snd_leads l) s
$$;

-- Profile values, obtained once by a privileged role.
SELECT icp_profile('snd-roles')::text AS snd_value \gset
CREATE FUNCTION pg_temp.value_answers_agree(v icp_profile) RETURNS boolean LANGUAGE sql AS $$
    SELECT bool_and(icp_fit(l, v) = want AND icp_fit(to_jsonb(l), v) = want
                    AND (icp_score(l, v)).fit = want AND icp_grade(l, v) IS NOT NULL
                    AND cardinality(icp_outcomes(l, v)) = 2)
      FROM (SELECT l, CASE WHEN industry = 'software' THEN 60 ELSE 0 END
                    + CASE WHEN employees BETWEEN 50 AND 1000 THEN 40 ELSE 0 END AS want
              FROM snd_leads l) s
$$;

-- 1. The superuser compiles every profile; then a role without SELECT on
-- the profile tables is refused, call after call.
SELECT * FROM pg_temp.by_name_calls();
SELECT pg_temp.answers_agree() AS superuser_answers_agree;
SET ROLE regress_icp_snd_nobody;
SELECT * FROM pg_temp.by_name_calls();
SELECT * FROM pg_temp.by_name_calls() WHERE outcome <> '42501';  -- the second time too
-- a profile value needs no privilege on the profile tables
SELECT pg_temp.value_answers_agree(:'snd_value') AS nobody_value_answers_agree;
RESET ROLE;

-- 2. The same after SET SESSION AUTHORIZATION.
SELECT pg_temp.answers_agree() AS superuser_answers_agree;
SET SESSION AUTHORIZATION regress_icp_snd_nobody;
SELECT call, outcome FROM pg_temp.by_name_calls() WHERE outcome <> '42501';
SELECT count(*) AS refused FROM pg_temp.by_name_calls() WHERE outcome = '42501';
RESET SESSION AUTHORIZATION;

-- 3. SELECT on icp_profiles alone is not enough.
SELECT pg_temp.answers_agree() AS superuser_answers_agree;
SET ROLE regress_icp_snd_half;
SELECT call, outcome FROM pg_temp.by_name_calls() WHERE outcome <> '42501';
SELECT count(*) AS refused FROM pg_temp.by_name_calls() WHERE outcome = '42501';
RESET ROLE;

-- 4. A reader (not a superuser) warms the cache; the role without rights
-- that comes next is refused; the reader still scores.
SET ROLE regress_icp_snd_reader;
SELECT call, outcome FROM pg_temp.by_name_calls() WHERE outcome <> 'ok';
SELECT pg_temp.answers_agree() AS reader_answers_agree;
SET ROLE regress_icp_snd_nobody;
SELECT call, outcome FROM pg_temp.by_name_calls() WHERE outcome <> '42501';
SELECT count(*) AS refused FROM pg_temp.by_name_calls() WHERE outcome = '42501';
SET ROLE regress_icp_snd_reader;
SELECT pg_temp.answers_agree() AS reader_answers_agree_again;
RESET ROLE;

-- 5. A SECURITY DEFINER function owned by the reader scores by name for
-- whoever calls it; its caller gains nothing outside the function, not
-- even in the same statement.
CREATE FUNCTION snd_definer_good_leads() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    RETURN (SELECT count(*) FROM snd_leads l WHERE icp_fit(l, 'snd-roles') >= 60
                                                AND icp_segment(l) IS NOT NULL);
END $$;
ALTER FUNCTION snd_definer_good_leads() OWNER TO regress_icp_snd_reader;
SET ROLE regress_icp_snd_nobody;
SELECT snd_definer_good_leads() = (SELECT count(*) FROM snd_leads
                                    WHERE industry = 'software') AS definer_answer_right;
SELECT call, outcome FROM pg_temp.by_name_calls() WHERE outcome <> '42501';
SELECT count(*) AS refused FROM pg_temp.by_name_calls() WHERE outcome = '42501';
\set VERBOSITY sqlstate
SELECT count(*) FROM snd_leads l WHERE snd_definer_good_leads() > 0 AND icp_fit(l, 'snd-roles') >= 0;
SELECT count(*) FROM snd_leads l WHERE snd_definer_good_leads() > 0 AND icp_fit(l) >= 0;
\set VERBOSITY default
RESET ROLE;

-- 6. A privilege revoked while the cache is warm is gone at the next call.
SET ROLE regress_icp_snd_reader;
SELECT pg_temp.answers_agree() AS reader_answers_agree;
RESET ROLE;
REVOKE SELECT ON icp_criteria FROM regress_icp_snd_reader;
SET ROLE regress_icp_snd_reader;
SELECT call, outcome FROM pg_temp.by_name_calls() WHERE outcome <> '42501';
RESET ROLE;

-- after all that, the superuser's answers are still right
SELECT pg_temp.answers_agree() AS superuser_answers_agree;

DROP FUNCTION snd_definer_good_leads();
DROP TABLE snd_leads;
DELETE FROM icp_profiles WHERE name IN ('snd-roles', 'snd-roles-x');
REVOKE ALL ON icp_profiles, icp_criteria FROM regress_icp_snd_half, regress_icp_snd_reader;
DROP ROLE regress_icp_snd_nobody;
DROP ROLE regress_icp_snd_half;
DROP ROLE regress_icp_snd_reader;
