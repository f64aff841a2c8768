-- Soundness: PL/pgSQL.  A variable that holds one profile name after another
-- scores with each profile in turn, however PL/pgSQL reuses its memory; a
-- profile edited in the middle of a function or a transaction is used from
-- the next statement on, also by a call that PL/pgSQL keeps between
-- statements.  Every fit is compared with icp_fit(row, icp_profile(name))
-- and with the fit computed by hand from the criteria.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

CREATE TABLE plp_leads (id int PRIMARY KEY, industry text, employees int, country text);
INSERT INTO plp_leads
SELECT g, (ARRAY['software', 'retail', 'fintech'])[1 + g % 3], (g * 89) % 1000,
       (ARRAY['DE', 'FR', 'DE', 'US'])[1 + g % 4]
  FROM generate_series(1, 24) g;
INSERT INTO icp_profiles (name) VALUES ('plp-a'), ('plp-b'), ('plp-c');
INSERT INTO icp_criteria (profile, rule, weight, note) VALUES
    ('plp-a', 'industry = ''software''', 30, 'sw'),
    ('plp-a', 'employees > 500', 10, 'big'),
    ('plp-b', 'country = ''DE''', 20, 'de'),
    ('plp-b', 'employees < 200', 20, 'small'),
    ('plp-c', 'industry = ''software''', 5, 'sw'),
    ('plp-c', 'country = ''DE''', 5, 'de'),
    ('plp-c', 'employees > 500', 30, 'big');

-- The fit by hand: the points formula over the criteria as they are now
-- (weights are positive and the leads have no NULLs).
CREATE FUNCTION pg_temp.want(r plp_leads, p text) RETURNS float8 LANGUAGE sql STABLE AS $$
    SELECT 100 * (coalesce(sum(c.weight) FILTER (WHERE c.met), 0) / sum(c.weight))
      FROM (SELECT weight, CASE note WHEN 'sw' THEN r.industry = 'software'
                                     WHEN 'big' THEN r.employees > 500
                                     WHEN 'de' THEN r.country = 'DE'
                                     WHEN 'small' THEN r.employees < 200 END AS met
              FROM icp_criteria WHERE profile = p) c
$$;

-- fits that differ by more than rounding
CREATE FUNCTION pg_temp.differs(a float8, b float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN a IS NULL OR b IS NULL THEN a IS DISTINCT FROM b ELSE abs(a - b) > 1e-9 END
$$;

-- the three profiles really differ on these leads
SELECT count(DISTINCT (pg_temp.want(l, 'plp-a'), pg_temp.want(l, 'plp-b'), pg_temp.want(l, 'plp-c'))) > 5 AS varied,
       count(*) FILTER (WHERE pg_temp.want(l, 'plp-a') <> pg_temp.want(l, 'plp-b')) > 10 AS a_differs_from_b
  FROM plp_leads l;

-- 1. One variable, several names: a variable declared in the loop body
DO $$
DECLARE
    r plp_leads;
    n text;
    checks int := 0;
    bad int := 0;
BEGIN
    FOR r IN SELECT * FROM plp_leads ORDER BY id LOOP
        FOREACH n IN ARRAY ARRAY['plp-a', 'plp-b', 'plp-c'] LOOP
            DECLARE
                v text := n;
            BEGIN
                checks := checks + 1;
                IF pg_temp.differs(icp_fit(r, v), pg_temp.want(r, v))
                   OR icp_fit(r, v) IS DISTINCT FROM icp_fit(r, icp_profile(v))
                   OR pg_temp.differs(icp_fit(to_jsonb(r), v), pg_temp.want(r, v))
                   OR icp_grade(r, v) IS DISTINCT FROM icp_grade(r, icp_profile(v))
                   OR pg_temp.differs((icp_score(r, v)).fit, pg_temp.want(r, v))
                   OR (icp_score(r, v)).profile IS DISTINCT FROM v
                   OR icp_segment(r, ARRAY[v]) IS DISTINCT FROM
                      (CASE WHEN pg_temp.want(r, v) >= 40 THEN v END) THEN
                    bad := bad + 1;
                END IF;
            END;
        END LOOP;
    END LOOP;
    RAISE NOTICE 'variable declared in the loop: % checks, % wrong', checks, bad;
END $$;

-- 2. ... a variable set to NULL, then to the next name
DO $$
DECLARE
    r plp_leads;
    n text;
    v text;
    checks int := 0;
    bad int := 0;
BEGIN
    FOR r IN SELECT * FROM plp_leads ORDER BY id LOOP
        FOREACH n IN ARRAY ARRAY['plp-a', 'plp-b', 'plp-c'] LOOP
            v := NULL;
            v := n;
            checks := checks + 1;
            IF pg_temp.differs(icp_fit(r, v), pg_temp.want(r, v))
               OR icp_fit(r, v) IS DISTINCT FROM icp_fit(r, icp_profile(v))
               OR icp_grade(r, v) IS DISTINCT FROM icp_grade(r, icp_profile(v))
               OR icp_outcomes(r, v) IS DISTINCT FROM icp_outcomes(r, icp_profile(v)) THEN
                bad := bad + 1;
            END IF;
        END LOOP;
    END LOOP;
    RAISE NOTICE 'variable reset to NULL: % checks, % wrong', checks, bad;
END $$;

-- 3. ... the loop variable of a loop over a set of names, rows inside
DO $$
DECLARE
    r plp_leads;
    v text;
    checks int := 0;
    bad int := 0;
BEGIN
    FOR v IN SELECT unnest(ARRAY['plp-a', 'plp-b', 'plp-c', 'plp-a', 'plp-c']) LOOP
        FOR r IN SELECT * FROM plp_leads ORDER BY id LOOP
            checks := checks + 1;
            IF pg_temp.differs(icp_fit(r, v), pg_temp.want(r, v))
               OR icp_fit(r, v) IS DISTINCT FROM icp_fit(r, icp_profile(v)) THEN
                bad := bad + 1;
            END IF;
        END LOOP;
    END LOOP;
    RAISE NOTICE 'loop over a set of names: % checks, % wrong', checks, bad;
END $$;

-- 4. ... FOREACH straight into the variable, and a name built by hand
DO $$
DECLARE
    r plp_leads;
    v text;
    checks int := 0;
    bad int := 0;
BEGIN
    FOR r IN SELECT * FROM plp_leads ORDER BY id LOOP
        FOREACH v IN ARRAY ARRAY['plp-c', 'plp-b', 'plp-a'] LOOP
            checks := checks + 1;
            IF pg_temp.differs(icp_fit(r, v), pg_temp.want(r, v)) THEN
                bad := bad + 1;
            END IF;
        END LOOP;
        FOR i IN 0 .. 2 LOOP
            v := 'plp-' || chr(ascii('a') + i);
            checks := checks + 1;
            IF pg_temp.differs(icp_fit(r, v), pg_temp.want(r, v)) THEN
                bad := bad + 1;
            END IF;
        END LOOP;
    END LOOP;
    RAISE NOTICE 'FOREACH and built names: % checks, % wrong', checks, bad;
END $$;

-- 5. A function taking the name as an argument, called with several names
-- in one query.
CREATE FUNCTION pg_temp.fit_by(r plp_leads, v text) RETURNS float8 LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN icp_fit(r, v);
END $$;
CREATE FUNCTION pg_temp.grade_by(r plp_leads, v text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    w text;
BEGIN
    w := NULL;
    w := v;
    RETURN icp_grade(r, w);
END $$;
SELECT count(*) AS checks,
       count(*) FILTER (WHERE pg_temp.differs(pg_temp.fit_by(l, p), pg_temp.want(l, p))) AS fit_wrong,
       count(*) FILTER (WHERE pg_temp.grade_by(l, p) IS DISTINCT FROM icp_grade(l, icp_profile(p))) AS grade_wrong
  FROM plp_leads l, unnest(ARRAY['plp-a', 'plp-b', 'plp-c']) p;

-- 6. An edit in the middle of a function is used by the next statement,
-- also by the same expression evaluated again in a loop.
DO $$
DECLARE
    r plp_leads;
    checks int := 0;
    bad int := 0;
BEGIN
    FOR w IN 1 .. 4 LOOP
        UPDATE icp_criteria SET weight = w * 15 WHERE profile = 'plp-a' AND note = 'big';
        FOR r IN SELECT * FROM plp_leads ORDER BY id LOOP
            checks := checks + 1;
            IF pg_temp.differs(icp_fit(r, 'plp-a'), pg_temp.want(r, 'plp-a')) THEN
                bad := bad + 1;
            END IF;
        END LOOP;
    END LOOP;
    RAISE NOTICE 'edits inside a function: % checks, % wrong', checks, bad;
END $$;

-- 7. A function PL/pgSQL keeps for the whole transaction, called before and
-- after an edit in that transaction.
CREATE FUNCTION pg_temp.fit_a(r plp_leads) RETURNS float8 LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN icp_fit(r, 'plp-a');
END $$;
BEGIN;
SELECT count(*) FILTER (WHERE pg_temp.differs(pg_temp.fit_a(l), pg_temp.want(l, 'plp-a'))) AS wrong
  FROM plp_leads l;
UPDATE icp_criteria SET weight = 1 WHERE profile = 'plp-a' AND note = 'sw';
SELECT count(*) FILTER (WHERE pg_temp.differs(pg_temp.fit_a(l), pg_temp.want(l, 'plp-a'))) AS wrong_after_edit,
       count(*) FILTER (WHERE pg_temp.differs(icp_fit(l, 'plp-a'), pg_temp.want(l, 'plp-a'))) AS wrong_plain_sql
  FROM plp_leads l;
UPDATE icp_criteria SET weight = 100 WHERE profile = 'plp-a' AND note = 'sw';
SELECT count(*) FILTER (WHERE pg_temp.differs(pg_temp.fit_a(l), pg_temp.want(l, 'plp-a'))) AS wrong_after_second_edit
  FROM plp_leads l;
COMMIT;

SET client_min_messages = warning;
DROP TABLE plp_leads CASCADE;  -- and the temporary functions on its row type
RESET client_min_messages;
DELETE FROM icp_profiles WHERE name LIKE 'plp-%';
