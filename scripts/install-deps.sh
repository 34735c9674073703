#!/usr/bin/env bash
# Installs the Debian packages CivicMap needs, only those missing. `run` for serving,
# `test` for the test suite (adds GDAL's ogr2ogr and the OpenAPI validator).
set -euo pipefail
purpose=${1:-run}
packages=(libsqlite3-dev libsqlite3-mod-spatialite libspatialite-dev libproj-dev proj-data
          libjs-leaflet libjs-leaflet.markercluster curl)
if [ "$purpose" = test ]; then
  packages+=(gdal-bin python3)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$purpose" = test ] && ! python3 -c 'import openapi_spec_validator' 2>/dev/null; then
  python3 -m pip install -q openapi-spec-validator
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install the Swift 6 toolchain first" >&2; exit 1; }
