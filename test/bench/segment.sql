-- test/bench/segment.sql: driven by segment.sh (psql variables rows, runs).
-- Leads are generated once into a server-side COPY file; every timing runs
-- in this one session, baseline and icp variant alternating.
SET client_min_messages = notice;
CREATE EXTENSION IF NOT EXISTS icp;
SET client_min_messages = warning;
-- contrib's insert_username: a C BEFORE ROW trigger that sets one column,
-- the cheapest row trigger there is, so the floor for any scoring trigger
CREATE EXTENSION IF NOT EXISTS insert_username;
DROP TABLE IF EXISTS bench_seg_src, bench_seg_plain, bench_seg_trig, bench_seg_plain_pk,
    bench_seg_trig_pk, bench_seg_plpgsql, bench_seg_floor, bench_seg_floor_pk;
DELETE FROM icp_profiles WHERE name IN ('bench-saas', 'bench-enterprise', 'bench-startup');
RESET client_min_messages;

INSERT INTO icp_profiles (name, kind) VALUES
    ('bench-saas', 'ideal'), ('bench-enterprise', 'ideal'), ('bench-startup', 'exclude');
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('bench-saas', 'industry IN (''software'', ''fintech'')', 30, false),
    ('bench-saas', 'employees BETWEEN 50 AND 1000', 25, true),
    ('bench-saas', 'country IN (''DE'', ''AT'', ''CH'')', 10, false),
    ('bench-saas', 'tech_stack CONTAINS ''salesforce''', 10, false),
    ('bench-saas', 'growth > 0.2', 10, false),
    ('bench-enterprise', 'employees > 1000', 40, true),
    ('bench-enterprise', 'revenue >= 100000000', 30, false),
    ('bench-enterprise', 'country IN (''US'', ''GB'', ''DE'')', 10, false),
    ('bench-enterprise', 'tech_stack CONTAINS ANY (''sap'', ''oracle'')', 20, false),
    ('bench-startup', 'employees < 20', 40, true),
    ('bench-startup', 'funding IN (''seed'', ''pre-seed'')', 30, false),
    ('bench-startup', 'revenue < 1000000', 20, false);

CREATE TABLE bench_seg_src (
    id bigint, name text, industry text, employees integer, revenue bigint,
    country text, tech_stack text[], funding text, growth double precision);
INSERT INTO bench_seg_src
SELECT g, 'lead ' || g,
       (ARRAY['software', 'fintech', 'retail', 'manufacturing', 'health'])[1 + g % 5],
       CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 7919) % 5000 END,
       ((g * 104729) % 500000000)::bigint,
       (ARRAY['DE', 'AT', 'CH', 'US', 'GB', 'FR'])[1 + g % 6],
       CASE g % 4 WHEN 0 THEN ARRAY['salesforce', 'slack'] WHEN 1 THEN ARRAY['sap']
                  WHEN 2 THEN ARRAY['hubspot', 'oracle'] ELSE '{}' END,
       (ARRAY['seed', 'pre-seed', 'series-a', 'series-b', 'public'])[1 + g % 5],
       ((g * 31) % 100) / 100.0
  FROM generate_series(1::bigint, :rows) AS g;

CREATE TABLE bench_seg_plain (LIKE bench_seg_src, fit double precision, grade text);
-- the floor: the same table with insert_username writing the grade column
CREATE TABLE bench_seg_floor (LIKE bench_seg_src, fit double precision, grade text);
CREATE TRIGGER bench_seg_floor BEFORE INSERT OR UPDATE ON bench_seg_floor
    FOR EACH ROW EXECUTE FUNCTION insert_username(grade);
CREATE TABLE bench_seg_trig (LIKE bench_seg_src, fit double precision, grade text);
CREATE TRIGGER bench_seg_score BEFORE INSERT OR UPDATE ON bench_seg_trig
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('bench-saas', 'fit', 'grade');
-- the same with a primary key, as a real leads table has
CREATE TABLE bench_seg_plain_pk (LIKE bench_seg_src, fit double precision, grade text, PRIMARY KEY (id));
CREATE TABLE bench_seg_floor_pk (LIKE bench_seg_src, fit double precision, grade text, PRIMARY KEY (id));
CREATE TRIGGER bench_seg_floor BEFORE INSERT OR UPDATE ON bench_seg_floor_pk
    FOR EACH ROW EXECUTE FUNCTION insert_username(grade);
CREATE TABLE bench_seg_trig_pk (LIKE bench_seg_src, fit double precision, grade text, PRIMARY KEY (id));
CREATE TRIGGER bench_seg_score BEFORE INSERT OR UPDATE ON bench_seg_trig_pk
    FOR EACH ROW EXECUTE FUNCTION icp_score_trigger('bench-saas', 'fit', 'grade');
-- what a user would write without icp_score_trigger: a PL/pgSQL trigger
CREATE TABLE bench_seg_plpgsql (LIKE bench_seg_src, fit double precision, grade text);
CREATE FUNCTION pg_temp.bench_seg_plpgsql_score() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    earned double precision := 0;
    possible double precision := 0;
BEGIN
    IF NEW.employees IS NULL OR NEW.employees NOT BETWEEN 50 AND 1000 THEN
        NEW.fit := CASE WHEN NEW.employees IS NULL THEN NULL ELSE 0 END;
    END IF;
    IF NEW.industry IS NOT NULL THEN
        possible := possible + 30;
        IF NEW.industry IN ('software', 'fintech') THEN earned := earned + 30; END IF;
    END IF;
    IF NEW.employees IS NOT NULL THEN
        possible := possible + 25;
        IF NEW.employees BETWEEN 50 AND 1000 THEN earned := earned + 25; END IF;
    END IF;
    IF NEW.country IS NOT NULL THEN
        possible := possible + 10;
        IF NEW.country IN ('DE', 'AT', 'CH') THEN earned := earned + 10; END IF;
    END IF;
    IF NEW.tech_stack IS NOT NULL THEN
        possible := possible + 10;
        IF 'salesforce' = ANY (NEW.tech_stack) THEN earned := earned + 10; END IF;
    END IF;
    IF NEW.growth IS NOT NULL THEN
        possible := possible + 10;
        IF NEW.growth > 0.2 THEN earned := earned + 10; END IF;
    END IF;
    IF NEW.employees IS NOT NULL AND NEW.employees NOT BETWEEN 50 AND 1000 THEN
        NEW.fit := 0;
    ELSE
        NEW.fit := CASE WHEN possible > 0 THEN 100 * earned / possible END;
    END IF;
    NEW.grade := CASE WHEN NEW.fit >= 80 THEN 'A' WHEN NEW.fit >= 60 THEN 'B'
                      WHEN NEW.fit >= 40 THEN 'C' WHEN NEW.fit IS NOT NULL THEN 'D' END;
    RETURN NEW;
END
$$;
CREATE TRIGGER bench_seg_score BEFORE INSERT OR UPDATE ON bench_seg_plpgsql
    FOR EACH ROW EXECUTE FUNCTION pg_temp.bench_seg_plpgsql_score();

-- the COPY file lives next to the data directory, written by the server
SELECT current_setting('data_directory') || '/bench_seg_leads.copy' AS copy_path \gset
COPY bench_seg_src TO :'copy_path';
VACUUM ANALYZE bench_seg_src;

CREATE FUNCTION pg_temp.bench_ratio(name text, base text, variant text, runs int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    tb double precision[] := '{}';
    tv double precision[] := '{}';
    ratios double precision[] := '{}';
    i int;
BEGIN
    FOR i IN 1 .. runs LOOP
        t0 := clock_timestamp();
        EXECUTE base;
        tb := tb || extract(epoch FROM clock_timestamp() - t0)::double precision;
        t0 := clock_timestamp();
        EXECUTE variant;
        tv := tv || extract(epoch FROM clock_timestamp() - t0)::double precision;
        ratios := ratios || (tv[i] / tb[i]);
    END LOOP;
    RAISE NOTICE '%: %', name,
        (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r)::numeric, 2) FROM unnest(ratios) r);
    RAISE NOTICE '  (% medians: baseline % s, measured % s)', name,
        (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r)::numeric, 3) FROM unnest(tb) r),
        (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r)::numeric, 3) FROM unnest(tv) r);
END
$$;

-- the target: icp_score_trigger against the cheapest row trigger, since any
-- BEFORE ROW trigger makes COPY insert row by row instead of in batches
SELECT FROM pg_temp.bench_ratio('copy_trigger_vs_insert_username',
    format('TRUNCATE bench_seg_floor; COPY bench_seg_floor (id, name, industry, employees, revenue, country, tech_stack, funding, growth) FROM %L', :'copy_path'),
    format('TRUNCATE bench_seg_trig; COPY bench_seg_trig (id, name, industry, employees, revenue, country, tech_stack, funding, growth) FROM %L', :'copy_path'),
    :runs);

SELECT FROM pg_temp.bench_ratio('copy_trigger_vs_insert_username_pk',
    format('TRUNCATE bench_seg_floor_pk; COPY bench_seg_floor_pk (id, name, industry, employees, revenue, country, tech_stack, funding, growth) FROM %L', :'copy_path'),
    format('TRUNCATE bench_seg_trig_pk; COPY bench_seg_trig_pk (id, name, industry, employees, revenue, country, tech_stack, funding, growth) FROM %L', :'copy_path'),
    :runs);

-- for reference: against no trigger at all, and what a hand-written
-- PL/pgSQL scoring trigger costs against the same floor
SELECT FROM pg_temp.bench_ratio('copy_trigger_vs_plain',
    format('TRUNCATE bench_seg_plain; COPY bench_seg_plain (id, name, industry, employees, revenue, country, tech_stack, funding, growth) FROM %L', :'copy_path'),
    format('TRUNCATE bench_seg_trig; COPY bench_seg_trig (id, name, industry, employees, revenue, country, tech_stack, funding, growth) FROM %L', :'copy_path'),
    :runs);

SELECT FROM pg_temp.bench_ratio('copy_insert_username_vs_plain',
    format('TRUNCATE bench_seg_plain; COPY bench_seg_plain (id, name, industry, employees, revenue, country, tech_stack, funding, growth) FROM %L', :'copy_path'),
    format('TRUNCATE bench_seg_floor; COPY bench_seg_floor (id, name, industry, employees, revenue, country, tech_stack, funding, growth) FROM %L', :'copy_path'),
    :runs);

SELECT FROM pg_temp.bench_ratio('copy_plpgsql_trigger_vs_insert_username',
    format('TRUNCATE bench_seg_floor; COPY bench_seg_floor (id, name, industry, employees, revenue, country, tech_stack, funding, growth) FROM %L', :'copy_path'),
    format('TRUNCATE bench_seg_plpgsql; COPY bench_seg_plpgsql (id, name, industry, employees, revenue, country, tech_stack, funding, growth) FROM %L', :'copy_path'),
    :runs);

-- scored table must agree with icp_fit / icp_grade (sanity, not timed)
DO $$
BEGIN
    IF EXISTS (SELECT FROM bench_seg_trig l
                WHERE l.fit IS DISTINCT FROM icp_fit(l, 'bench-saas')
                   OR l.grade IS DISTINCT FROM icp_grade(l, 'bench-saas')) THEN
        RAISE EXCEPTION 'trigger-written scores differ from icp_fit/icp_grade';
    END IF;
END
$$;

SELECT FROM pg_temp.bench_ratio('segment3_vs_fit1',
    'SELECT count(icp_fit(l, ''bench-saas'')) FROM bench_seg_src l',
    'SELECT count(icp_segment(l, ''{bench-saas,bench-enterprise,bench-startup}'')) FROM bench_seg_src l',
    :runs);

SET client_min_messages = warning;
DROP TABLE bench_seg_src, bench_seg_plain, bench_seg_trig, bench_seg_plain_pk,
    bench_seg_trig_pk, bench_seg_plpgsql, bench_seg_floor, bench_seg_floor_pk;
DELETE FROM icp_profiles WHERE name IN ('bench-saas', 'bench-enterprise', 'bench-startup');
-- (the COPY file stays in the throwaway cluster's data directory)
