#!/usr/bin/env bash
# test/bench/learn.sh: icp_learn over 1,000,000 leads and 6 attributes against
# the SQL a user would write instead: one GROUP BY frequency table per
# attribute with count(*) FILTER (WHERE won) (numbers in 10 width_bucket
# bins, array elements unnested).  Medians of alternating runs in one
# session; prints the ratio and the backend's peak private memory.
#
# Runs against the database named by the PG* variables (`make bench` sets
# them to a throwaway cluster).  Uses the table leads if it exists (the
# lead's bench.sh creates it), else generates one; the outcome column won is
# generated from a known logistic model into a copy, learn_bench, so leads
# itself is left as it is (a leads table that has won already is used as is).
#
#   LEARN_BENCH_ROWS  rows to generate when leads is missing (ICP_BENCH_ROWS, 1000000)
#   LEARN_BENCH_RUNS  timed runs of each side (ICP_BENCH_RUNS, 5)
set -euo pipefail

ROWS=${LEARN_BENCH_ROWS:-${ICP_BENCH_ROWS:-1000000}}
RUNS=${LEARN_BENCH_RUNS:-${ICP_BENCH_RUNS:-5}}
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -P pager=off)

"${PSQL[@]}" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS icp"

if [[ $("${PSQL[@]}" -tAc "SELECT to_regclass('leads') IS NOT NULL") != t ]]; then
	echo "learn bench: generating $ROWS leads"
	"${PSQL[@]}" -v rows="$ROWS" <<-'SQL'
		SELECT setseed(0.42);
		CREATE TABLE leads AS
		SELECT g AS id, 'company ' || g AS name,
		       (ARRAY['software','fintech','retail','manufacturing','healthcare',
		              'education','logistics','media'])[1 + floor(random() * 8)::int] AS industry,
		       (5 + floor(exp(random() * 7)))::int AS employees,
		       round((random() * 5e7)::numeric, 2) AS revenue,
		       (ARRAY['DE','AT','CH','FR','US','GB','NL','ES','IT','PL'])[1 + floor(random() * 10)::int] AS country,
		       ARRAY(SELECT x FROM unnest(ARRAY['salesforce','hubspot','slack','jira','sap','zendesk']) x
		              WHERE random() < 0.3 + 0 * g) AS tech_stack,
		       CASE WHEN random() < 0.3 THEN NULL ELSE (random() * 1e8)::bigint END AS funding,
		       (random() * 2 - 0.5)::float8 AS growth
		  FROM generate_series(1, :rows) g;
		ALTER TABLE leads ADD PRIMARY KEY (id);
	SQL
fi

SRC=learn_bench
if [[ $("${PSQL[@]}" -tAc "SELECT count(*) FROM pg_attribute WHERE attrelid = 'leads'::regclass
		AND attname = 'won' AND NOT attisdropped") == 1 ]]; then
	SRC=leads
elif [[ $("${PSQL[@]}" -tAc "SELECT to_regclass('learn_bench') IS NOT NULL") != t ]]; then
	echo "learn bench: adding a won outcome from a known model (learn_bench)"
	"${PSQL[@]}" <<-'SQL'
		SELECT setseed(0.17);
		CREATE TABLE learn_bench AS
		SELECT l.*, random() < 1 / (1 + exp(-(-2.0
		         + CASE l.industry WHEN 'software' THEN 1.0 WHEN 'fintech' THEN 0.7
		                           WHEN 'retail' THEN -0.5 ELSE 0 END
		         + CASE WHEN l.employees BETWEEN 50 AND 500 THEN 0.8 ELSE 0 END
		         + CASE WHEN l.country IN ('DE', 'AT', 'CH') THEN 0.5 ELSE 0 END
		         + CASE WHEN 'salesforce' = ANY (l.tech_stack) THEN 0.6 ELSE 0 END
		         + CASE WHEN l.funding IS NULL THEN -0.4 ELSE 0 END))) AS won
		  FROM leads l;
		VACUUM ANALYZE learn_bench;
	SQL
fi

"${PSQL[@]}" -v runs="$RUNS" -v src="$SRC" <<-'SQL'
	SET client_min_messages = warning;
	-- warm the cache and the library once, untimed
	SELECT count(*) FROM :"src" \gset
	SELECT * FROM icp_learn('learn_bench', :'src', 'won',
	    ARRAY['industry', 'employees', 'revenue', 'country', 'tech_stack', 'funding']) \gset warm_

	-- settings the timing block reads (psql does not expand variables
	-- inside dollar quotes)
	SELECT set_config('learn_bench.runs', :'runs', false),
	       set_config('learn_bench.src', :'src', false) \gset
	CREATE TEMP TABLE learn_timing (side text, run int, ms float8);

	DO $bench$
	DECLARE
	    src regclass := current_setting('learn_bench.src')::regclass;
	    attrs text[] := ARRAY['industry', 'employees', 'revenue', 'country', 'tech_stack', 'funding'];
	    freq text[];
	    b record;
	    t0 timestamptz;
	    side text;
	    q text;
	BEGIN
	    -- bin bounds for the hand-written numeric frequency tables (untimed)
	    EXECUTE format('SELECT min(employees) AS emp_lo, max(employees) + 1 AS emp_hi,
	                           min(revenue) AS rev_lo, max(revenue) + 1 AS rev_hi,
	                           min(funding) AS fun_lo, max(funding) + 1 AS fun_hi FROM %s', src) INTO b;
	    freq := ARRAY[
	        format('SELECT industry, count(*), count(*) FILTER (WHERE won) FROM %s GROUP BY 1', src),
	        format('SELECT width_bucket(employees, %s, %s, 10), count(*), count(*) FILTER (WHERE won) FROM %s GROUP BY 1',
	               b.emp_lo, b.emp_hi, src),
	        format('SELECT width_bucket(revenue, %s, %s, 10), count(*), count(*) FILTER (WHERE won) FROM %s GROUP BY 1',
	               b.rev_lo, b.rev_hi, src),
	        format('SELECT country, count(*), count(*) FILTER (WHERE won) FROM %s GROUP BY 1', src),
	        format('SELECT e, count(*), count(*) FILTER (WHERE won) FROM %s LEFT JOIN LATERAL unnest(tech_stack) AS e ON true GROUP BY 1', src),
	        format('SELECT width_bucket(funding, %s, %s, 10), count(*), count(*) FILTER (WHERE won) FROM %s GROUP BY 1',
	               b.fun_lo, b.fun_hi, src)];
	    FOR run IN 1 .. current_setting('learn_bench.runs')::int LOOP
	        FOREACH side IN ARRAY CASE WHEN run % 2 = 1 THEN ARRAY['learn', 'sql']
	                                    ELSE ARRAY['sql', 'learn'] END LOOP
	            t0 := clock_timestamp();
	            IF side = 'learn' THEN
	                PERFORM * FROM icp_learn('learn_bench', src, 'won', attrs);
	            ELSE
	                FOREACH q IN ARRAY freq LOOP
	                    EXECUTE q;
	                END LOOP;
	            END IF;
	            INSERT INTO learn_timing
	                VALUES (side, run, extract(epoch FROM clock_timestamp() - t0) * 1000);
	        END LOOP;
	    END LOOP;
	END
	$bench$;

	\echo
	\echo 'icp_learn over' :count 'leads, 6 attributes (industry, employees, revenue, country, tech_stack, funding)'
	SELECT :warm_rows_used AS rows_used, :warm_positives AS positives, :warm_criteria AS criteria,
	       round(:warm_train_auc::numeric, 4) AS train_auc;
	SELECT side, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS median_ms,
	       round(min(ms)::numeric, 1) AS min_ms, round(max(ms)::numeric, 1) AS max_ms
	  FROM learn_timing GROUP BY side ORDER BY side;
	SELECT 'icp_learn / frequency-table SQL: ' ||
	       to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'learn')
	             / percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'sql'), 'FM0.00')
	       AS result
	  FROM learn_timing \gset
	\echo :result
SQL

# Peak private memory of one icp_learn run in a fresh backend: the peak
# resident size minus the shared memory it touched (needs superuser to
# read /proc of the backend through pg_read_file).
"${PSQL[@]}" -tA -v src="$SRC" <<-'SQL' || echo "learn bench: peak memory not measured (needs superuser)"
	SET client_min_messages = warning;
	SELECT * FROM icp_learn('learn_bench', :'src', 'won',
	    ARRAY['industry', 'employees', 'revenue', 'country', 'tech_stack', 'funding']) \gset
	WITH s AS (
	    SELECT split_part(l, ':', 1) AS k,
	           (regexp_match(split_part(l, ':', 2), '(\d+)'))[1]::bigint AS kb
	      FROM regexp_split_to_table(pg_read_file('/proc/' || pg_backend_pid() || '/status'), E'\n') AS l)
	SELECT 'icp_learn backend peak private memory: ' ||
	       round(((SELECT kb FROM s WHERE k = 'VmHWM') - (SELECT kb FROM s WHERE k = 'RssShmem')) / 1024.0)
	       || ' MB (VmHWM ' || round((SELECT kb FROM s WHERE k = 'VmHWM') / 1024.0)
	       || ' MB, of which shared ' || round((SELECT kb FROM s WHERE k = 'RssShmem') / 1024.0) || ' MB)';
	DELETE FROM icp_profiles WHERE name = 'learn_bench';
SQL
