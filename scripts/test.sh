#!/usr/bin/env bash
# The whole test suite: builds everything (the daemon tests start the real diffusiond executable) and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
swift test
