# icp: Ideal Customer Profile scoring inside PostgreSQL (PGXS build)
#
#   make                 build
#   make install         install into the server named by PG_CONFIG
#   make installcheck    pg_regress against a running server (PG* variables)
#   make test            everything from a clean machine: packages, -Werror
#                        build, throwaway cluster, pg_regress, pgTAP and
#                        test/checks on this machine's PostgreSQL (15, or
#                        PG_CONFIG's), then the same on PostgreSQL 17 and 18
#                        in cached Debian chroots (make test-versions); the
#                        last line "N passed, N failed" is the total.  CI
#                        runs this (.ci/run).  ICP_TEST_VERSIONS=no skips 17
#                        and 18 for a quick run, and says so.
#   make test-versions   only the PostgreSQL 17 and 18 part (root; chroots
#                        in /var/cache/icp-versions, ICP_VERSIONS=18 for one)
#   make demo            the ICP story in the terminal
#   make bench           performance ratios against hand-written SQL
#   make learn-quality   icp_learn's holdout AUC against scikit-learn
#                        (needs python3-sklearn, python3-psycopg2)
#   make check-citus     icp on a throwaway Citus cluster (coordinator and two
#                        workers) against one node; needs Citus installed in
#                        PG_CONFIG's server (test/citus/build.sh)
#   make fuzz            libFuzzer on the rule parser and decoder; then
#                        test/fuzz/account.sh against the PG* server, if any

EXTENSION = icp
EXTVERSION := $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" icp.control)

MODULE_big = icp
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# One hand-edited SQL source (split by concern under src/sql/) becomes the
# install script of the current version.  Released versions are frozen:
# their install scripts (src/icp--A.sql, committed as shipped) and the
# upgrade scripts (src/icp--A--B.sql) are installed as they are.  To start
# version B after a released A: commit the generated src/icp--A.sql as it
# is (and stop ignoring it in .gitignore), set default_version = 'B' in
# icp.control, and ship src/icp--A--B.sql with every change to src/sql/.
SQL_SOURCES = $(sort $(wildcard src/sql/*.sql))
DATA_built = src/icp--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard src/icp--*.sql))

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=plpgsql

EXTRA_CLEAN = src/icp--$(EXTVERSION).sql results regression.diffs regression.out

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -I$(srcdir)/src
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

src/icp--$(EXTVERSION).sql: $(SQL_SOURCES) icp.control
	cat $(SQL_SOURCES) > $@

$(OBJS): $(wildcard src/*.h)

.PHONY: test test-versions demo bench learn-quality valgrind fuzz check-citus

test:
	bash test/run.sh test

test-versions:
	bash test/versions.sh

demo:
	bash test/run.sh demo

bench:
	bash test/run.sh bench

learn-quality:
	bash test/run.sh learn-quality

valgrind:
	bash test/run.sh valgrind

check-citus: install
	PG_CONFIG=$(PG_CONFIG) bash test/citus/check.sh

# then the account-path fuzzer when a server is named (PG* variables)
fuzz:
	bash test/fuzz/run.sh
	@if [ -n "$$PGHOST$$PGPORT$$PGDATABASE$$PGSERVICE" ]; then \
		bash test/fuzz/account.sh $${ACCOUNT_SECONDS:-60}; fi
