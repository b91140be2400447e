#!/usr/bin/env bash
# Installs the Debian packages listed in system-packages.txt that are missing
# (browser for the widget test, servers for the scale-out test). Does nothing
# when they are all there, so `make test` stays quick on a prepared machine.
set -euo pipefail
list=${1:-system-packages.txt}
missing=()
for package in $(grep -v '^\s*#' "$list"); do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "==> installing Debian packages: ${missing[*]}" >&2
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
