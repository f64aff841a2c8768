-- Soundness: real-sized values.  Rows carry texts of 15-20 kB (compressible
-- and not), text[] of 800-1,500 elements and jsonb documents over 8 kB, so
-- PostgreSQL stores them compressed or out of line (TOAST).  The scoring
-- trigger (INSERT ... VALUES, INSERT ... SELECT, UPDATE, COPY), icp_rescore,
-- icp_funnel, icp_learn and icp_evaluate on such tables give the answers of
-- the same rules written in SQL.  (The scoring functions themselves are
-- compared with SQL on big values in test/pgtap/differential.sql.)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

CREATE TABLE tst_source (
    id int PRIMARY KEY,
    industry text,
    employees int,
    notes text,
    tags text[],
    doc jsonb,
    won boolean
);
INSERT INTO tst_source
SELECT g,
       (ARRAY['software', 'retail', 'fintech', 'media'])[1 + g % 4],
       CASE WHEN g % 9 = 0 THEN NULL ELSE (g * 37) % 900 END,
       CASE g % 4 WHEN 0 THEN repeat('abc', 5000)
                  WHEN 1 THEN (SELECT string_agg(md5(g || 'n' || x), '') FROM generate_series(1, 600) x)
                  WHEN 2 THEN 'short note' END,
       CASE WHEN g % 10 = 7 THEN NULL
            WHEN g % 3 = 0 THEN ARRAY(SELECT md5(g || 't' || x) FROM generate_series(1, 1500) x)
                                || CASE WHEN g % 2 = 0 THEN ARRAY['salesforce'] ELSE '{}' END
            WHEN g % 3 = 1 THEN array_fill('hubspot'::text, ARRAY[800])
                                || CASE WHEN g % 5 < 2 THEN ARRAY['salesforce'] ELSE '{}' END
            ELSE ARRAY['salesforce'] END,
       jsonb_build_object('plan', CASE WHEN g % 3 = 0 THEN 'pro' ELSE 'free' END,
                          'blob', (SELECT string_agg(md5(g || 'd' || x), '') FROM generate_series(1, 300) x)),
       CASE WHEN g % 11 = 0 THEN NULL ELSE g % 3 <> 1 END
  FROM generate_series(1, 40) g;

-- the values really are big, and stored compressed or out of line
SELECT min(octet_length(notes)) FILTER (WHERE notes <> 'short note') AS min_notes_bytes,
       min(cardinality(tags)) FILTER (WHERE cardinality(tags) > 1) AS min_tags,
       min(octet_length(doc::text)) AS min_doc_bytes,
       bool_or(pg_column_size(notes) < octet_length(notes)) AS some_compressed,
       (SELECT pg_relation_size(reltoastrelid) > 0 FROM pg_class WHERE oid = 'tst_source'::regclass) AS toast_used
  FROM tst_source;

-- One profile with rules of every kind on the big columns and the small
-- ones; notes (c01-c06) tag the criteria.  Two literals are big too.
INSERT INTO icp_profiles (name, active) VALUES ('tst', false);
INSERT INTO icp_criteria (profile, rule, weight, note) VALUES
    ('tst', format('notes = %L', repeat('abc', 5000))::icp_rule, 10, 'c01'),
    ('tst', 'notes LIKE ''abc%''', 5, 'c02'),
    ('tst', 'notes ~ ''^[0-9a-f]+$''', 7, 'c03'),
    ('tst', 'notes ~* ''^ABC''', 3, 'c04'),
    ('tst', 'notes ILIKE ''%CABCA%''', 2, 'c05'),
    ('tst', format('notes IN (''short note'', %L)', (SELECT notes FROM tst_source WHERE id = 1))::icp_rule, 4, 'c06'),
    ('tst', 'tags CONTAINS ''salesforce''', 20, 'c07'),
    ('tst', 'tags CONTAINS ANY (''hubspot'', ''pipedrive'')', 8, 'c08'),
    ('tst', 'tags CONTAINS ALL (''salesforce'', ''hubspot'')', 6, 'c09'),
    ('tst', 'doc.plan = ''pro''', 9, 'c10'),
    ('tst', 'employees BETWEEN 50 AND 500', 12, 'c11'),
    ('tst', 'industry IN (''software'', ''fintech'')', 15, 'c12');

-- The same rules in SQL, and the points formula over them with the weights
-- as they are now (all positive; unknown outcomes do not count).
CREATE FUNCTION tst_outcomes(notes text, tags text[], doc jsonb, employees int, industry text)
RETURNS TABLE (note text, met boolean) LANGUAGE sql STABLE AS $$
    VALUES ('c01', notes = repeat('abc', 5000)),
           ('c02', notes LIKE 'abc%'),
           ('c03', notes ~ '^[0-9a-f]+$'),
           ('c04', notes ~* '^ABC'),
           ('c05', notes ILIKE '%CABCA%'),
           ('c06', notes IN ('short note', (SELECT s.notes FROM tst_source s WHERE s.id = 1))),
           ('c07', tags @> ARRAY['salesforce']),
           ('c08', tags && ARRAY['hubspot', 'pipedrive']),
           ('c09', tags @> ARRAY['salesforce', 'hubspot']),
           ('c10', doc->>'plan' = 'pro'),
           ('c11', employees BETWEEN 50 AND 500),
           ('c12', industry IN ('software', 'fintech'))
$$;
CREATE FUNCTION tst_want(notes text, tags text[], doc jsonb, employees int, industry text)
RETURNS float8 LANGUAGE sql STABLE AS $$
    SELECT 100 * (coalesce(sum(c.weight) FILTER (WHERE o.met), 0)
                  / sum(c.weight) FILTER (WHERE o.met IS NOT NULL))
      FROM icp_criteria c JOIN tst_outcomes(notes, tags, doc, employees, industry) o USING (note)
     WHERE c.profile = 'tst'
$$;
CREATE FUNCTION tst_grade(fit float8) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN fit IS NULL THEN NULL WHEN fit >= 80 THEN 'A' WHEN fit >= 60 THEN 'B'
                WHEN fit >= 40 THEN 'C' ELSE 'D' END
$$;
-- Rows of a table whose stored fit or grade is not the SQL answer (0 is right).
CREATE FUNCTION tst_wrong(tbl regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format($q$
        SELECT count(*) FILTER (WHERE NOT coalesce(abs(t.fit - w.want) < 1e-9, t.fit IS NULL AND w.want IS NULL)
                                   OR t.grade IS DISTINCT FROM tst_grade(w.want))
          FROM %s t, LATERAL (SELECT tst_want(t.notes, t.tags, t.doc, t.employees, t.industry) AS want) w$q$, tbl)
      INTO n;
    RETURN n;
END $$;

-- the rules are not trivially all true or all false on this data
SELECT o.note, count(*) FILTER (WHERE o.met) AS sql_true, count(*) FILTER (WHERE NOT o.met) AS sql_false,
       count(*) FILTER (WHERE o.met IS NULL) AS sql_unknown
  FROM tst_source s, tst_outcomes(s.notes, s.tags, s.doc, s.employees, s.industry) o
 GROUP BY o.note ORDER BY o.note;

-- 1. The scoring trigger.
CREATE TABLE tst_target (LIKE tst_source, fit float8, grade text);
CREATE TRIGGER tst_score BEFORE INSERT OR UPDATE ON tst_target
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('tst', 'fit', 'grade');
-- INSERT ... VALUES with big values computed in the statement
INSERT INTO tst_target (id, industry, employees, notes, tags, doc)
VALUES (1001, 'software', 100, repeat('abc', 5000), array_fill('hubspot'::text, ARRAY[900]) || ARRAY['salesforce'],
        jsonb_build_object('plan', 'pro', 'blob', repeat('x', 9000))),
       (1002, 'retail', 700, (SELECT string_agg(md5(x::text), '') FROM generate_series(1, 700) x),
        ARRAY(SELECT md5(x::text) FROM generate_series(1, 2000) x), jsonb_build_object('plan', 'free', 'blob', repeat('y', 9000)));
SELECT tst_wrong('tst_target') AS wrong_after_insert_values;
-- INSERT ... SELECT from a table whose big values are stored out of line
INSERT INTO tst_target (id, industry, employees, notes, tags, doc, won) SELECT * FROM tst_source;
SELECT tst_wrong('tst_target') AS wrong_after_insert_select;
-- UPDATE of small columns: the big ones stay as stored
UPDATE tst_target SET employees = coalesce(employees, 0) + 100 WHERE id % 2 = 0;
UPDATE tst_target SET industry = 'fintech' WHERE id % 3 = 0;
SELECT tst_wrong('tst_target') AS wrong_after_update;
-- ... and of a big one
UPDATE tst_target SET notes = notes || 'x', tags = tags || ARRAY['hubspot'] WHERE id % 5 = 0;
SELECT tst_wrong('tst_target') AS wrong_after_big_update;
-- COPY from a file written by COPY TO
\copy tst_source TO 'results/sound_toast.data'
CREATE TABLE tst_copied (LIKE tst_target);
CREATE TRIGGER tst_score BEFORE INSERT OR UPDATE ON tst_copied
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('tst', 'fit', 'grade');
\copy tst_copied (id, industry, employees, notes, tags, doc, won) FROM 'results/sound_toast.data'
SELECT count(*) AS copied, tst_wrong('tst_copied') AS wrong_after_copy FROM tst_copied;

-- 2. icp_rescore after a profile edit.
UPDATE icp_criteria SET weight = CASE note WHEN 'c01' THEN 30 ELSE 25 END
 WHERE profile = 'tst' AND note IN ('c01', 'c09');
SELECT tst_wrong('tst_target') > 0 AS stale_before_rescore;
SET client_min_messages = warning;
CALL icp_rescore('tst_target', 'tst', 'fit', 'grade', batch_size => 7);
RESET client_min_messages;
SELECT tst_wrong('tst_target') AS wrong_after_rescore;

-- 3. icp_funnel: per criterion, the rows where it is true and unknown, and
-- the pool left after it and every heavier one (no criterion is required).
WITH o AS (SELECT s.id, o.note, o.met
             FROM tst_source s, tst_outcomes(s.notes, s.tags, s.doc, s.employees, s.industry) o),
     c AS (SELECT id, note, row_number() OVER (ORDER BY weight DESC) AS step
             FROM icp_criteria WHERE profile = 'tst')
SELECT count(*) AS steps,
       bool_and(f.matching = (SELECT count(*) FROM o WHERE o.note = c.note AND o.met)) AS matching_agrees,
       bool_and(f.unknown = (SELECT count(*) FROM o WHERE o.note = c.note AND o.met IS NULL)) AS unknown_agrees,
       bool_and(f.pool = (SELECT count(*) FROM tst_source s
                           WHERE NOT EXISTS (SELECT FROM o JOIN c AS c2 USING (note)
                                              WHERE o.id = s.id AND c2.step <= c.step AND o.met IS NOT TRUE)))
           AS pool_agrees
  FROM icp_funnel('tst', 'tst_source') f JOIN c ON c.id = f.criterion;

-- 4. icp_evaluate: rows, positives and the AUC (Mann-Whitney, ties count
-- half, NULL fits lowest) from the SQL fits.
CREATE FUNCTION tst_sql_auc(fits float8[], won boolean[]) RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
    WITH s AS (SELECT coalesce(f, -1) AS f, w FROM unnest(fits, won) AS u(f, w) WHERE w IS NOT NULL),
         r AS (SELECT w, rank() OVER (ORDER BY f) AS lo, count(*) OVER (PARTITION BY f) AS ties FROM s)
    SELECT ((sum(lo + (ties - 1) / 2.0) FILTER (WHERE w)
             - count(*) FILTER (WHERE w) * (count(*) FILTER (WHERE w) + 1) / 2.0)
            / (count(*) FILTER (WHERE w) * count(*) FILTER (WHERE NOT w)))::float8
      FROM r
$$;
SELECT e.rows = (SELECT count(*) FROM tst_source WHERE won IS NOT NULL) AS rows_agree,
       e.positives = (SELECT count(*) FROM tst_source WHERE won) AS positives_agree,
       abs(e.auc - (SELECT tst_sql_auc(array_agg(tst_want(notes, tags, doc, employees, industry)), array_agg(won))
                      FROM tst_source)) < 1e-9 AS auc_agrees
  FROM icp_evaluate('tst', 'tst_source', 'won') e;

-- 5. icp_learn on the big columns, and the learned profile scored like the
-- logistic formula over its rules written in SQL (CONTAINS is @>).
SELECT rows_used = (SELECT count(*) FROM tst_source WHERE won IS NOT NULL) AS rows_agree,
       positives = (SELECT count(*) FROM tst_source WHERE won) AS positives_agree,
       criteria > 0 AS learned_something
  FROM icp_learn('tst-learned', 'tst_source', 'won', ARRAY['notes', 'tags', 'industry', 'employees'],
                 '{"min_support": 3}');
CREATE FUNCTION tst_learned_check() RETURNS TABLE (criteria bigint, reads_big_columns boolean, wrong bigint, auc_agrees boolean)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    eta text;
BEGIN
    SELECT p.bias::text INTO eta FROM icp_profiles p WHERE p.name = 'tst-learned';
    FOR c IN SELECT rule::text AS r, weight FROM icp_criteria WHERE profile = 'tst-learned' LOOP
        eta := eta || format(' + CASE WHEN %s THEN %s ELSE 0 END',
                             regexp_replace(c.r, '^(\w+) CONTAINS (''(?:[^'']|'''')*'')$', '\1 @> ARRAY[\2]'),
                             c.weight);
    END LOOP;
    SELECT count(*), bool_or(rule::text ~ '^(notes|tags) ') INTO criteria, reads_big_columns
      FROM icp_criteria WHERE profile = 'tst-learned';
    -- the table row (rewritten by the planner), then a whole-row record
    EXECUTE format($q$
        SELECT count(*) FILTER (WHERE NOT abs(icp_fit(s, 'tst-learned') - 100 / (1 + exp(-(%s)))) < 1e-9)
               + (SELECT count(*) FILTER (WHERE NOT abs(icp_fit(x, 'tst-learned') - 100 / (1 + exp(-(%s)))) < 1e-9)
                    FROM (SELECT * FROM tst_source OFFSET 0) x),
               abs((SELECT auc FROM icp_evaluate('tst-learned', 'tst_source', 'won'))
                   - tst_sql_auc(array_agg(100 / (1 + exp(-(%s)))), array_agg(won))) < 1e-9
          FROM tst_source s$q$, eta, eta, eta)
      INTO wrong, auc_agrees;
    RETURN NEXT;
END $$;
SELECT criteria > 0 AS has_criteria, reads_big_columns, wrong, auc_agrees FROM tst_learned_check();

DROP TABLE tst_source, tst_target, tst_copied;
DROP FUNCTION tst_outcomes(text, text[], jsonb, int, text), tst_want(text, text[], jsonb, int, text),
    tst_grade(float8), tst_wrong(regclass), tst_sql_auc(float8[], boolean[]), tst_learned_check();
DELETE FROM icp_profiles WHERE name IN ('tst', 'tst-learned');
