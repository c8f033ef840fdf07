# Installs the Debian packages paynode builds and tests with, when missing.
# Sourced by the scripts in scripts/; safe to run repeatedly.
# Extra package names may be given (e.g. wrk etcd-server for the benchmarks).
ensure_packages() {
  local wanted=(liblz4-dev lz4 libsqlite3-dev sqlite3 pkg-config curl "$@")
  local missing=()
  for p in "${wanted[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null
  fi
}
