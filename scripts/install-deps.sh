#!/usr/bin/env bash
# Installs the Debian packages CivicMap needs, only those missing. `run` for serving,
# `bench` for `make bench` and `make load` (adds wrk and GNU time), `test` for the test suite
# (adds those, GDAL's ogr2ogr, the OpenAPI validator, Chromium and the schemathesis API fuzzer).
set -euo pipefail
purpose=${1:-run}
packages=(libsqlite3-dev libsqlite3-mod-spatialite libspatialite-dev libproj-dev proj-data zlib1g-dev
          libjs-leaflet libjs-leaflet.markercluster curl)
if [ "$purpose" = bench ] || [ "$purpose" = test ]; then
  packages+=(wrk time python3)
fi
if [ "$purpose" = test ]; then
  packages+=(gdal-bin chromium chromium-driver fonts-dejavu-core)
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
if [ "$purpose" = test ]; then
  for module in openapi_spec_validator selenium; do
    python3 -c "import $module" 2>/dev/null || python3 -m pip install -q "${module//_/-}"
  done
  # The API fuzzer, in its own environment (its pinned dependencies stay out of the system's).
  if [ ! -x var/schemathesis/bin/schemathesis ]; then
    echo "installing schemathesis (PyPI) into var/schemathesis"
    python3 -m venv var/schemathesis && var/schemathesis/bin/pip install -q 'schemathesis==4.32.5'
  fi
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install the Swift 6 toolchain first" >&2; exit 1; }
