# Shared by .ci/up and .ci/test (sourced): install Debian packages that are missing.
export DEBIAN_FRONTEND=noninteractive

# A command as root (through sudo when we are not), or as the postgres user (a shell line).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}
as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi
}
apt_get() { as_root apt-get "$@"; }

# Install the packages named, if any; apt can fail transiently: retry once.
apt_install() {
  [ $# -gt 0 ] || return 0
  echo "installing Debian packages: $*" >&2
  if ! { apt_get update -qq && apt_get install -y -qq "$@" >/dev/null; }; then
    sleep 5
    apt_get update -qq && apt_get install -y -qq "$@" >/dev/null
  fi
}

# What building needs beyond Rust and gcc: cmake (pingora's zlib-ng is built with it).
build_needs() {
  command -v cmake >/dev/null || echo cmake
}

# What the running stack uses: espeak-ng renders the media engine's text-to-speech.
runtime_needs() {
  command -v espeak-ng >/dev/null || echo espeak-ng
}
