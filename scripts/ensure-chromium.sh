#!/usr/bin/env bash
# Make sure a headless Chromium is available for the report tests
# (tests/report/test_report.py opens the generated HTML report in it).
#
# - Chromium already on PATH (chromium or chromium-browser): say which, exit 0.
# - Missing, running as root on Debian/Ubuntu: install Debian's `chromium`
#   package with apt-get (update first, quiet, no recommends) plus a small
#   font so text renders, then say what was installed.
# - Missing and not root (or no apt-get): install nothing, explain how, exit 0;
#   the browser tests then skip with the same hint.
#
# CI runs this before `make test`.
set -euo pipefail

find_chromium() {
  for c in chromium chromium-browser; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
  done
  return 1
}

if path=$(find_chromium); then
  echo "ensure-chromium: found $path ($("$path" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: chromium is not installed and this is not root; installing nothing."
  echo "  install it with: sudo apt-get update && sudo apt-get install -y chromium"
  echo "  (the browser tests in tests/report/ skip until it is there)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: chromium is not installed and apt-get is not available; installing nothing."
  echo "  install Chromium with your system's package manager to run the browser tests."
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "ensure-chromium: installing Debian's chromium package (apt-get update, then install)..."
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
path=$(find_chromium)
echo "ensure-chromium: installed $path ($("$path" --version 2>/dev/null || echo 'version unknown'))"
