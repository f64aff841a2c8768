#!/usr/bin/env bash
# PLACEHOLDER: replace with the real benchmarks.  `make bench` runs this with
# PGHOST/PGPORT/PGDATABASE/PGUSER set to a throwaway cluster
# (shared_buffers=1GB, work_mem=64MB, jit=off).
set -euo pipefail
echo "no benchmarks yet"
