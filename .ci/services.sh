#!/usr/bin/env bash
# Install (from Debian's packages) and start what the tests need: PostgreSQL for the
# same-code-on-PostgreSQL tests, Chromium (its headless shell) for the browser tests. Idempotent.
# Prints the environment to use: eval "$(bash .ci/services.sh)".
set -euo pipefail

# Chromium, and certutil: `govaudit a11y` adds the crawl's extra CA (--ca-bundle) to a
# throwaway NSS db. The same script installs them for `make demo`.
bash "$(dirname "$0")/browser.sh"
need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "installing ${need[*]} (apt-get)" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2
fi

# PostgreSQL: the Debian cluster, started if down, with a test role (loopback only).
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2" "$4}' | grep -q "^$version main online"; then
  pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >&2
  pg_ctlcluster "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
su postgres -c "psql -q -p $port -tc \"select 1 from pg_roles where rolname='govaudit'\"" \
  | grep -q 1 || su postgres -c "psql -q -p $port -c \"create role govaudit login superuser password 'govaudit'\"" >&2

echo "export GOVAUDIT_TEST_PG_URL=postgresql://govaudit:govaudit@127.0.0.1:$port/postgres"
echo "export GOVAUDIT_CHROMIUM=$(command -v chromium-headless-shell)"
