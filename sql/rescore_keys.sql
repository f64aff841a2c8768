-- icp_rescore walks a table by its primary key, in the order of the key's own
-- btree operator classes and collations: every row is scored exactly once,
-- whatever the key's type, in batches of exactly batch_size rows.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
CREATE EXTENSION IF NOT EXISTS citext;
RESET client_min_messages;

INSERT INTO icp_profiles (name) VALUES ('rk');
INSERT INTO icp_criteria (profile, rule, weight) VALUES ('rk', 'employees > 10', 1);

-- Every write of every table is logged by row number (n), so the counts
-- below show that each row was written once per run.
CREATE TABLE rk_log (tbl text, n integer);
CREATE FUNCTION rk_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rk_log VALUES (TG_TABLE_NAME, OLD.n);
    RETURN NEW;
END
$$;

-- Keys whose order is not the order of their text: uuid, citext (case
-- folded), text in an ICU collation, numeric, timestamptz, composite keys
-- (one whose operators all live in pg_catalog, one mixing citext's
-- operators with integer's), a key named with quotes, and no key at all.
CREATE TABLE rk_uuid (id uuid PRIMARY KEY, n integer, employees integer, fit double precision);
INSERT INTO rk_uuid SELECT md5(g::text)::uuid, g, 20, NULL FROM generate_series(1, 7) AS g;

CREATE TABLE rk_citext (id citext PRIMARY KEY, n integer, employees integer, fit double precision);
INSERT INTO rk_citext
SELECT v, g, 20, NULL
  FROM unnest(ARRAY['apple', 'Banana', 'cherry', 'Date', 'eel', 'FIG', 'grape']) WITH ORDINALITY AS x(v, g);

CREATE TABLE rk_icu (id text COLLATE "en-x-icu" PRIMARY KEY, n integer, employees integer, fit double precision);
INSERT INTO rk_icu
SELECT v, g, 20, NULL
  FROM unnest(ARRAY['a', 'B', 'c', 'É', 'e', 'Z', 'ö', '_x', '10', '9']) WITH ORDINALITY AS x(v, g);

CREATE TABLE rk_numeric ("Amount ""Key""" numeric PRIMARY KEY, n integer, employees integer, fit double precision);
INSERT INTO rk_numeric
SELECT v, g, 20, NULL
  FROM unnest(ARRAY[2, 10, 1.5, -3, 100.25, 1e6, 0.000001, 9.99]::numeric[]) WITH ORDINALITY AS x(v, g);

CREATE TABLE rk_ts (id timestamptz PRIMARY KEY, n integer, employees integer, fit double precision);
INSERT INTO rk_ts
SELECT v, g, 20, NULL
  FROM unnest(ARRAY['2024-03-31 01:59:59.999999+00', '2024-03-31 02:00:00+00', '1999-12-31 23:59:59+14',
                    '2024-10-27 00:30:00+00', 'infinity', '-infinity', '0044-03-15 12:00:00+00 BC']::timestamptz[])
       WITH ORDINALITY AS x(v, g);

CREATE TABLE rk_pair (a integer, b text, n integer, employees integer, fit double precision,
                      PRIMARY KEY (a, b));
INSERT INTO rk_pair SELECT g % 3, 'x' || (g * 7) % 11, g, 20, NULL FROM generate_series(1, 11) AS g;

CREATE TABLE rk_mixed (a citext, b integer, n integer, employees integer, fit double precision,
                       PRIMARY KEY (a, b) INCLUDE (n));
INSERT INTO rk_mixed
SELECT (ARRAY['a', 'B', 'c'])[1 + g % 3], (g * 7) % 11 - 5, g, 20, NULL FROM generate_series(1, 11) AS g;

CREATE TABLE rk_parted (region text, id integer, n integer, employees integer, fit double precision,
                        PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE rk_parted_eu PARTITION OF rk_parted FOR VALUES IN ('EU');
CREATE TABLE rk_parted_us PARTITION OF rk_parted FOR VALUES IN ('US');
INSERT INTO rk_parted SELECT (ARRAY['EU', 'US'])[1 + g % 2], 100 - g * 9, g, 20, NULL FROM generate_series(1, 9) AS g;

CREATE TABLE rk_nokey (n integer, employees integer, fit double precision);
INSERT INTO rk_nokey SELECT g, 20, NULL FROM generate_series(1, 5) AS g;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['rk_uuid', 'rk_citext', 'rk_icu', 'rk_numeric', 'rk_ts', 'rk_pair',
                             'rk_mixed', 'rk_parted_eu', 'rk_parted_us', 'rk_nokey'] LOOP
        EXECUTE format('CREATE TRIGGER log BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION rk_log()', t);
    END LOOP;
END
$$;

-- What the rescored tables hold against what icp_fit says, and how often
-- each row was written.
CREATE FUNCTION rk_stale(tbl regclass, OUT total_rows bigint, OUT stale bigint) LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT count(*), count(*) FILTER (WHERE fit IS DISTINCT FROM icp_fit(t, ''rk'')) FROM %s t', tbl)
       INTO total_rows, stale;
END
$$;
CREATE VIEW rk_state AS
SELECT s.tbl, (rk_stale(s.tbl::regclass)).*,
       (SELECT count(*) FROM rk_log l WHERE l.tbl LIKE s.tbl || '%') AS writes,
       (SELECT count(DISTINCT (l.tbl, l.n)) FROM rk_log l WHERE l.tbl LIKE s.tbl || '%') AS rows_written
  FROM (VALUES ('rk_uuid'), ('rk_citext'), ('rk_icu'), ('rk_numeric'), ('rk_ts'), ('rk_pair'),
               ('rk_mixed'), ('rk_parted'), ('rk_nokey')) AS s(tbl);

-- batch_size 1: one row per batch, each committed; the last NOTICE before
-- the summary counts every row exactly once.
CALL icp_rescore('rk_uuid', 'rk', 'fit', batch_size => 1);
CALL icp_rescore('rk_citext', 'rk', 'fit', batch_size => 1);
CALL icp_rescore('rk_icu', 'rk', 'fit', batch_size => 1);
CALL icp_rescore('rk_numeric', 'rk', 'fit', batch_size => 1);
CALL icp_rescore('rk_ts', 'rk', 'fit', batch_size => 1);
CALL icp_rescore('rk_pair', 'rk', 'fit', batch_size => 1);
CALL icp_rescore('rk_mixed', 'rk', 'fit', batch_size => 1);
CALL icp_rescore('rk_parted', 'rk', 'fit', batch_size => 1);
CALL icp_rescore('rk_nokey', 'rk', 'fit', batch_size => 1);
SELECT * FROM rk_state ORDER BY tbl;

-- The profile changes so that every fit changes; batches of 3 write every
-- row once more.
UPDATE icp_criteria SET rule = 'employees > 100' WHERE profile = 'rk';
CALL icp_rescore('rk_uuid', 'rk', 'fit', batch_size => 3);
CALL icp_rescore('rk_citext', 'rk', 'fit', batch_size => 3);
CALL icp_rescore('rk_icu', 'rk', 'fit', batch_size => 3);
CALL icp_rescore('rk_numeric', 'rk', 'fit', batch_size => 3);
CALL icp_rescore('rk_ts', 'rk', 'fit', batch_size => 3);
CALL icp_rescore('rk_pair', 'rk', 'fit', batch_size => 3);
CALL icp_rescore('rk_mixed', 'rk', 'fit', batch_size => 3);
CALL icp_rescore('rk_parted', 'rk', 'fit', batch_size => 3);
CALL icp_rescore('rk_nokey', 'rk', 'fit', batch_size => 3);
SELECT * FROM rk_state ORDER BY tbl;

-- The same inside a transaction block (one transaction, no commits).
UPDATE icp_criteria SET rule = 'employees > 10' WHERE profile = 'rk';
BEGIN;
SET LOCAL client_min_messages = warning;
CALL icp_rescore('rk_uuid', 'rk', 'fit', batch_size => 2);
CALL icp_rescore('rk_citext', 'rk', 'fit', batch_size => 2);
CALL icp_rescore('rk_icu', 'rk', 'fit', batch_size => 2);
CALL icp_rescore('rk_numeric', 'rk', 'fit', batch_size => 2);
CALL icp_rescore('rk_ts', 'rk', 'fit', batch_size => 2);
CALL icp_rescore('rk_pair', 'rk', 'fit', batch_size => 2);
CALL icp_rescore('rk_mixed', 'rk', 'fit', batch_size => 2);
CALL icp_rescore('rk_parted', 'rk', 'fit', batch_size => 2);
CALL icp_rescore('rk_nokey', 'rk', 'fit', batch_size => 2);
COMMIT;
SELECT * FROM rk_state ORDER BY tbl;

-- A larger composite key: batches of 700 over 5,000 rows, each row once.
CREATE TABLE rk_big (tenant integer, id text COLLATE "en-x-icu", n integer, employees integer,
                     fit double precision, PRIMARY KEY (tenant, id));
INSERT INTO rk_big SELECT g % 3, md5(g::text), g, g % 50, NULL FROM generate_series(1, 5000) AS g;
CREATE TRIGGER log BEFORE UPDATE ON rk_big FOR EACH ROW EXECUTE FUNCTION rk_log();
CALL icp_rescore('rk_big', 'rk', 'fit', batch_size => 700);
SELECT count(*) AS total_rows,
       count(*) FILTER (WHERE fit IS DISTINCT FROM icp_fit(t, 'rk')) AS stale,
       (SELECT count(*) FROM rk_log WHERE tbl = 'rk_big') AS writes,
       (SELECT count(DISTINCT n) FROM rk_log WHERE tbl = 'rk_big') AS rows_written
  FROM rk_big t;

-- Names holding format() directives are quoted like any other name.
CREATE TABLE "rk %s ""odd""" ("id%1$s" integer PRIMARY KEY, employees integer, "fit%s" double precision);
INSERT INTO "rk %s ""odd""" VALUES (1, 20), (2, 5), (3, NULL);
CREATE TABLE "rk %s nokey" (employees integer, "fit%s" double precision);
INSERT INTO "rk %s nokey" VALUES (20), (5), (NULL);
SET client_min_messages = warning;
CALL icp_rescore('"rk %s ""odd"""', 'rk', 'fit%s', batch_size => 2);
CALL icp_rescore('"rk %s nokey"', 'rk', 'fit%s', batch_size => 2);
RESET client_min_messages;
SELECT employees, "fit%s" FROM "rk %s ""odd""" ORDER BY 1;
SELECT employees, "fit%s" FROM "rk %s nokey" ORDER BY 1;
DROP TABLE "rk %s ""odd""", "rk %s nokey";

DROP VIEW rk_state;
DROP FUNCTION rk_stale(regclass);
DROP TABLE rk_uuid, rk_citext, rk_icu, rk_numeric, rk_ts, rk_pair, rk_mixed, rk_parted, rk_nokey,
           rk_big, rk_log;
DROP FUNCTION rk_log();
DROP EXTENSION citext;
DELETE FROM icp_profiles WHERE name = 'rk';
