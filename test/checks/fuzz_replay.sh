#!/usr/bin/env bash
# Check: the libFuzzer targets build and every committed seed (including
# inputs that once crashed) runs clean under ASan/UBSan.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash test/fuzz/run.sh replay | sed 's/^ok - /ok 1 - /; s/^not ok - /not ok 1 - /'
