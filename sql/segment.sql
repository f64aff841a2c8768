-- icp_segment: which profile an account belongs to (README, Segmentation).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

-- Two ideal profiles, an anti-profile and an inactive profile.
INSERT INTO icp_profiles (name, kind, active) VALUES
    ('seg-mid-market', 'ideal', true),
    ('seg-enterprise', 'ideal', true),
    ('seg-startup-sam', 'exclude', true),
    ('seg-dormant', 'ideal', false);
INSERT INTO icp_criteria (profile, rule, weight, required) VALUES
    ('seg-mid-market', 'employees BETWEEN 50 AND 1000', 40, true),
    ('seg-mid-market', 'industry IN (''software'', ''fintech'')', 40, false),
    ('seg-mid-market', 'country IN (''DE'', ''AT'', ''CH'')', 20, false),
    ('seg-enterprise', 'employees > 1000', 60, true),
    ('seg-enterprise', 'industry = ''software''', 40, false),
    ('seg-startup-sam', 'employees < 20', 50, true),
    ('seg-startup-sam', 'funding = ''seed''', 50, false),
    ('seg-dormant', 'country = ''FR''', 100, false);

CREATE TABLE seg_leads (
    id integer PRIMARY KEY,
    industry text,
    employees integer,
    country text,
    funding text
);
INSERT INTO seg_leads VALUES
    (1, 'software', 200, 'DE', 'series-a'),   -- mid-market, fit 100
    (2, 'software', 5000, 'US', 'public'),    -- enterprise
    (3, 'software', 10, 'DE', 'seed'),        -- startup-sam wins over everything
    (4, 'retail', 300, 'FR', NULL),           -- mid-market fit 40: grade C, matches
    (5, 'retail', 300, 'US', NULL),           -- mid-market fit 40 (C)
    (6, 'retail', 30, 'US', NULL),            -- nothing matches
    (7, NULL, NULL, NULL, NULL);              -- nothing is known

SELECT l.id, icp_segment(l) AS segment,
       icp_grade(l, 'seg-mid-market') AS mid, icp_grade(l, 'seg-enterprise') AS ent,
       icp_grade(l, 'seg-startup-sam') AS sam
  FROM seg_leads l ORDER BY l.id;

-- Named profiles take part whether active or not; others do not.
SELECT l.id, icp_segment(l, ARRAY['seg-dormant', 'seg-enterprise']) AS segment
  FROM seg_leads l ORDER BY l.id;

-- The same for jsonb accounts.
SELECT icp_segment('{"industry": "software", "employees": 200, "country": "DE"}'::jsonb) AS jsonb_segment,
       icp_segment('{"employees": 12, "funding": "seed"}'::jsonb, ARRAY['seg-mid-market']) AS only_mid,
       icp_segment('{}'::jsonb) AS nothing_known;

-- On a table row the call is rewritten to read the columns directly.
EXPLAIN (COSTS OFF, VERBOSE) SELECT icp_segment(l) FROM seg_leads l;

-- Ties go to the name that sorts first (byte-wise, C collation).
INSERT INTO icp_profiles (name) VALUES ('seg-tie-b'), ('seg-tie-a');
INSERT INTO icp_criteria (profile, rule, weight) VALUES
    ('seg-tie-b', 'country = ''DE''', 1), ('seg-tie-a', 'country = ''DE''', 1);
SELECT icp_segment('{"country": "DE"}'::jsonb, ARRAY['seg-tie-b', 'seg-tie-a']) AS tie;
DELETE FROM icp_profiles WHERE name IN ('seg-tie-a', 'seg-tie-b');

-- Edge cases: no profiles, an unknown profile, NULL names, NULL accounts.
SELECT icp_segment(l, '{}') AS no_profiles FROM seg_leads l WHERE l.id = 1;
SELECT icp_segment(l, ARRAY['seg-mid-market', 'seg-mid-market']) AS twice FROM seg_leads l WHERE l.id = 1;
SELECT icp_segment(l, ARRAY['no-such-profile']) FROM seg_leads l;
SELECT icp_segment(l, ARRAY['seg-mid-market', NULL]) FROM seg_leads l;
SELECT icp_segment(NULL::seg_leads) IS NULL AS null_account,
       icp_segment('{}'::jsonb, NULL) IS NULL AS null_names;
SELECT icp_segment('[1, 2]'::jsonb);

-- Random data and random profiles, checked against the rule written in SQL:
-- matching = grade A, B or C; a matching exclude profile wins over any
-- ideal one; the highest fit wins; ties to the name that sorts first.
SELECT setseed(0.42);
INSERT INTO seg_leads
SELECT 100 + g,
       (ARRAY['software', 'fintech', 'retail', 'health', NULL])[1 + floor(random() * 5)::int],
       CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 3000)::int END,
       (ARRAY['DE', 'AT', 'US', 'FR', NULL])[1 + floor(random() * 5)::int],
       (ARRAY['seed', 'series-a', 'public', NULL])[1 + floor(random() * 4)::int]
  FROM generate_series(1, 3000) AS g;
INSERT INTO icp_profiles (name, kind, grade_thresholds, missing)
SELECT 'seg-rnd-' || g, CASE WHEN g = 3 THEN 'exclude' ELSE 'ideal' END,
       ARRAY[70, 50, 30]::float8[], CASE WHEN g = 2 THEN 'penalize' ELSE 'ignore' END
  FROM generate_series(1, 4) AS g;
INSERT INTO icp_criteria (profile, rule, weight, required)
SELECT 'seg-rnd-' || p,
       (ARRAY['industry = ''software''', 'industry IN (''fintech'', ''health'')',
              'employees > 500', 'employees BETWEEN 10 AND 200', 'country IN (''DE'', ''AT'')',
              'country <> ''US''', 'funding = ''seed''', 'funding IS NULL'])[1 + floor(random() * 8)::int]::icp_rule,
       round((random() * 40 - 5)::numeric)::float8,
       random() < 0.15
  FROM generate_series(1, 4) AS p, generate_series(1, 4) AS c;

CREATE TEMP VIEW seg_expected AS
WITH scores AS (
    SELECT l.id, p.name, p.kind, icp_fit(l, p.name) AS fit, icp_grade(l, p.name) AS grade
      FROM seg_leads l CROSS JOIN icp_profiles p
     WHERE p.active
)
SELECT DISTINCT ON (id) id, name
  FROM scores
 WHERE grade IN ('A', 'B', 'C')
 ORDER BY id, kind = 'exclude' DESC, fit DESC, name COLLATE "C";

SELECT count(*) AS rows,
       count(*) FILTER (WHERE icp_segment(l) IS DISTINCT FROM e.name) AS differ,
       count(*) FILTER (WHERE icp_segment(to_jsonb(l)) IS DISTINCT FROM e.name) AS jsonb_differ,
       count(DISTINCT e.name) AS segments_seen
  FROM seg_leads l LEFT JOIN seg_expected e USING (id);

-- By segment and grade (against the segment's own profile), the way a BI
-- tool would group the leads.
SELECT coalesce(s.segment, '(none)') AS segment, icp_grade(l, s.segment) AS grade,
       count(*) AS leads
  FROM seg_leads l CROSS JOIN LATERAL (SELECT icp_segment(l) AS segment) AS s
 GROUP BY 1, 2 ORDER BY 1, 2;

DROP VIEW seg_expected;
DROP TABLE seg_leads;
DELETE FROM icp_profiles WHERE name LIKE 'seg-%';
