#!/usr/bin/env bash
# Takes the manual's pictures of each view (docs/src/images/web-*.png) from the demo, in
# Chromium, through the browser suite's harness: `bash scripts/docs_screenshots.sh`.
# Commit the pictures that changed. Needs what scripts/browser_tests.sh needs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$root/docs/src/images"
BROWSER_SPECS=./docs DOCS_IMAGES="$root/docs/src/images" bash "$root/scripts/browser_tests.sh" sqlite
ls -l "$root"/docs/src/images/web-*.png
