#!/usr/bin/env bash
# Run the whole test suite. The tests start their own PostgreSQL and Redis
# servers on loopback (from the Debian packages setup.sh installs) and read the
# real sample data in ../shared/data when it is there.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_THREAD_LIMIT=1
exec .venv/bin/python -m pytest "$@"
