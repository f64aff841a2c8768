--
-- rule_syntax: a tour of the icp_rule language (README, The rule language).
-- Each rule is shown as written and in its canonical form; the canonical
-- form parses back to the same value, in text and in binary.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS icp;
RESET client_min_messages;

CREATE TEMP TABLE rule_tour (id serial PRIMARY KEY, written text NOT NULL);

INSERT INTO rule_tour (written) VALUES
    -- comparisons; != is <>, keywords and plain identifiers fold case
    ('employees > 50'),
    ('Employees>=50'),
    ('revenue <= 2500.5'),
    ('country = ''DE'''),
    ('country <> ''DE'''),
    ('country != ''DE'''),
    ('score < -3'),
    -- numbers are canonicalised like numeric: sign, exponent, -0, .5
    ('employees = +5'),
    ('revenue >= 1e6'),
    ('revenue >= 1.5E-3'),
    ('delta = -0'),
    ('ratio = .5'),
    ('ratio = 5.'),
    ('ratio = 5.00'),
    -- strings use SQL quoting; '' is a quote, backslashes are plain
    ('name = ''O''''Brien'''),
    ('path = ''C:\temp'''),
    ('name = '''''),
    ('city = ''Zürich'''),
    -- booleans
    ('is_public = TRUE'),
    ('is_public = false'),
    -- IN and NOT IN, lists may mix literal kinds
    ('industry IN (''software'', ''fintech'')'),
    ('industry not in (''retail'')'),
    ('code IN (1, ''2'', TRUE, -4.0)'),
    -- BETWEEN and NOT BETWEEN
    ('employees BETWEEN 50 AND 1000'),
    ('employees NOT BETWEEN 50 AND 1000'),
    ('founded between ''2010-01-01'' and ''2020-12-31'''),
    -- IS [NOT] NULL / TRUE / FALSE
    ('churned_at IS NULL'),
    ('churned_at is not null'),
    ('is_public IS TRUE'),
    ('is_public IS NOT TRUE'),
    ('is_public IS FALSE'),
    ('is_public IS NOT FALSE'),
    -- LIKE, ILIKE, regular expressions
    ('name LIKE ''Acme%'''),
    ('name NOT LIKE ''%GmbH'''),
    ('name ILIKE ''%inc.'''),
    ('name NOT ILIKE ''test\_%'''),
    ('domain ~ ''\.(io|ai)$'''),
    ('domain ~* ''^WWW\.'''),
    -- CONTAINS for arrays and jsonb arrays
    ('tech_stack CONTAINS ''salesforce'''),
    ('tech_stack contains any (''hubspot'', ''marketo'')'),
    ('tech_stack CONTAINS ALL (''aws'', ''snowflake'')'),
    ('scores CONTAINS 10'),
    -- WITHIN: a positive interval before now()
    ('last_visit WITHIN ''30 days'''),
    ('signed_up within ''1 year 2 months'''),
    -- attribute paths: a.b is key b of jsonb column a
    ('meta.score > 5'),
    ('meta.address.country = ''AT'''),
    ('Meta.Score > 5'),
    -- quoted identifiers keep their case; keywords and odd names need quotes
    ('"Employees" > 5'),
    ('"select" = 1'),
    ('"in" = 1'),
    ('"contains" = 1'),
    ('"first name" = ''Ann'''),
    ('"a""b" = 1'),
    ('meta."all" = 1'),
    ('meta.all = 1'),
    ('"x.y" = 1'),
    ('straße = 1'),
    ('"Straße" = 1'),
    ('col$1 = 1'),
    ('_private = 1'),
    ('name = 1'),
    ('"between" = 1'),
    -- AND binds tighter than OR; NOT tighter than AND
    ('a = 1 AND b = 2 OR c = 3'),
    ('a = 1 OR b = 2 AND c = 3'),
    ('(a = 1 OR b = 2) AND c = 3'),
    ('NOT a = 1 AND b = 2'),
    ('NOT (a = 1 AND b = 2)'),
    ('NOT (a = 1 OR b = 2) OR c = 3'),
    ('not not a = 1'),
    ('NOT (NOT (a = 1))'),
    ('NOT a IS NULL'),
    -- redundant parentheses disappear, AND/OR groups are flattened
    ('((a = 1))'),
    ('(a = 1 AND b = 2) AND c = 3'),
    ('a = 1 AND (b = 2 AND (c = 3 AND d = 4))'),
    ('a = 1 OR (b = 2 OR c = 3)'),
    ('((a = 1 OR b = 2) OR (c = 3 AND d = 4)) OR e = 5'),
    ('a = 1 AND (b = 2 OR c = 3) AND (d = 4 OR (e = 5 AND (f = 6 OR g = 7)))'),
    -- whitespace is free, BETWEEN's AND is not a conjunction
    (E'employees\tBETWEEN 50\nAND 1000 AND  country=''DE'''),
    ('x BETWEEN 1 AND 2 AND y BETWEEN 3 AND 4 OR z = 5');

-- written form, canonical form, and: canonical text parses to itself
SELECT id, written, written::icp_rule AS canonical,
       written::icp_rule::text::icp_rule::text = written::icp_rule::text AS text_round_trip,
       icp_rule_send(written::icp_rule) = icp_rule_send(written::icp_rule::text::icp_rule) AS same_binary
FROM rule_tour ORDER BY id;

-- binary round trip through COPY (FORMAT binary): send, then receive
CREATE TEMP TABLE rule_copy (id int, r icp_rule);
INSERT INTO rule_copy SELECT id, written::icp_rule FROM rule_tour;
\copy rule_copy TO 'results/rule_syntax.bin' WITH (FORMAT binary)
CREATE TEMP TABLE rule_copy_back (id int, r icp_rule);
\copy rule_copy_back FROM 'results/rule_syntax.bin' WITH (FORMAT binary)
SELECT count(*) AS received,
       count(*) FILTER (WHERE a.r = b.r AND a.r::text = b.r::text
                        AND icp_rule_send(a.r) = icp_rule_send(b.r)) AS identical
FROM rule_copy a JOIN rule_copy_back b USING (id);

-- the binary form (version byte, then the tree in prefix order)
SELECT encode(icp_rule_send('a = 1'), 'hex') AS pred,
       encode(icp_rule_send('NOT x IS NULL'), 'hex') AS not_is_null,
       encode(icp_rule_send('a = TRUE OR b IN (''x'', 2)'), 'hex') AS or_in;

-- equality is equality of canonical forms
SELECT 'a = 1 AND b = 2'::icp_rule = '(A=+1) and (B = 2.)'::icp_rule AS same,
       'a = 1 AND b = 2'::icp_rule = 'b = 2 AND a = 1'::icp_rule AS reordered_is_different,
       'x <> 1'::icp_rule = 'x != 1'::icp_rule AS ne_spellings,
       'x = 1'::icp_rule <> 'x = 1.0'::icp_rule AS scale_matters,
       '"x" = 1'::icp_rule = 'X = 1'::icp_rule AS quoted_lower_case;

-- DISTINCT, GROUP BY, UNION, ORDER BY and unique indexes work
SELECT count(*) AS rows, count(DISTINCT written::icp_rule) AS distinct_rules FROM rule_tour;
SELECT r, count(*) FROM (VALUES ('a = 1'::icp_rule), ('A = 1'), ('a = 2'), ('(a = 1)')) v(r)
GROUP BY r ORDER BY r;
SELECT r FROM (SELECT 'a = 1'::icp_rule UNION SELECT 'a=1'::icp_rule UNION SELECT 'b = 1') u(r) ORDER BY r;
CREATE TEMP TABLE rule_unique (r icp_rule PRIMARY KEY);
INSERT INTO rule_unique VALUES ('a = 1'), ('b = 1');
INSERT INTO rule_unique VALUES ('A = +1');
CREATE TEMP TABLE rule_hashed (r icp_rule);
CREATE INDEX ON rule_hashed USING hash (r);
INSERT INTO rule_hashed SELECT written::icp_rule FROM rule_tour;
SET enable_seqscan = off;
SELECT count(*) FROM rule_hashed WHERE r = 'EMPLOYEES > 50';
RESET enable_seqscan;
SELECT icp_rule_cmp('a = 1', 'a = 1'), icp_rule_cmp('a = 1', 'a = 2'), icp_rule_cmp('a = 2', 'a = 1'),
       icp_rule_hash('a = 1') = icp_rule_hash('A=1') AS same_hash;

-- icp_rule_attributes: distinct paths in order of first use, raw names
SELECT written, icp_rule_attributes(written::icp_rule)
FROM (VALUES ('employees > 50'),
             ('industry IN (''a'') AND meta.score > 2 OR industry = ''b'''),
             ('"Meta"."Score" > 1 AND meta.score > 1 AND "x.y" = 1'),
             ('NOT (b = 1 OR a = 1) AND b IS NULL')) v(written);

-- NULL in, NULL out
SELECT NULL::icp_rule AS null_rule, icp_rule_attributes(NULL) AS null_attrs;

DROP TABLE rule_tour, rule_copy, rule_copy_back, rule_unique, rule_hashed;
