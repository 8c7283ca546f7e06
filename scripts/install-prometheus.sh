#!/usr/bin/env bash
# Installs the Prometheus tools the test suite drives (prometheus, promtool, alertmanager,
# amtool) into the project's tools folder, at the versions production runs (chart 88 deploys
# Prometheus 3.x and Alertmanager 0.33): Prometheus >= 3.5 and Alertmanager >= 0.28.
#
# The system's own packages are never installed, upgraded or replaced:
# - On Debian, the packages come from Debian's own mirror (suite sid by default, which carries
#   the 3.5 LTS line) through `apt-get download` with a private sources list, state and cache,
#   and are unpacked with `dpkg-deb -x` into the tools folder.
# - Elsewhere (the GitHub workflows' Ubuntu runners), the upstream release archives are
#   downloaded and checked against the sha256 sums pinned below; a mismatch stops the install.
#
# Idempotent: when the tools folder already holds all four binaries at or above the floors,
# nothing is downloaded. Prints the versions at the end.
#
#   ESTATE_TOOLS_DIR   the tools folder (default: <repo>/.tools/prometheus; binaries in bin/)
#   ESTATE_TOOLS_SOURCE  debian | upstream (default: debian when /etc/os-release says ID=debian)
#   DEBIAN_MIRROR, DEBIAN_SUITE  where Debian's packages come from (default deb.debian.org, sid)
#   PROMETHEUS_RELEASES  where the upstream archives come from (default github.com/prometheus)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${ESTATE_TOOLS_DIR:-$root/.tools/prometheus}"
bin="$tools/bin"

# Floors, not pins: sid moves. 3.5 is the LTS line whose range selectors are left-open like
# production's 3.13; Alertmanager 0.28 and later have webhook_configs[].url_file (0.25 lacks it).
PROMETHEUS_FLOOR=3.5.0
ALERTMANAGER_FLOOR=0.28.0

DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SUITE="${DEBIAN_SUITE:-sid}"
DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# Upstream release archives (linux-amd64, what GitHub's ubuntu-24.04 runners are), pinned by
# the sha256 sums the releases publish in sha256sums.txt.
# PROMETHEUS_RELEASES may point at a mirror of github.com/prometheus: the sums still apply.
PROMETHEUS_RELEASES="${PROMETHEUS_RELEASES:-https://github.com/prometheus}"
PROMETHEUS_VERSION=3.5.0
PROMETHEUS_SHA256=e811827af26d822afb09a4f28314f61b618b12cff5369835a67f674d8b46f39a
ALERTMANAGER_VERSION=0.33.1
ALERTMANAGER_SHA256=93d802cba6a8d27239d747ce117df7648d326ab67394e32247540b030e9842ba

say() { printf 'install-prometheus: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

version_of() {  # the first X.Y.Z the binary's --version prints, empty when it cannot run
  "$1" --version 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1 || true
}

at_least() {  # at_least VERSION FLOOR
  [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}

floor_of() {
  case "$1" in
    prometheus | promtool) echo "$PROMETHEUS_FLOOR" ;;
    alertmanager | amtool) echo "$ALERTMANAGER_FLOOR" ;;
  esac
}

installed() {  # all four binaries in the tools folder, each at or above its floor
  local tool
  # A folder from before the launcher (bin/alertmanager straight to Debian's binary, which
  # needs /usr/share/prometheus) is reinstalled.
  case "$(readlink -f "$bin/alertmanager" 2>/dev/null)" in
    */debian/usr/bin/prometheus-alertmanager) return 1 ;;
  esac
  for tool in prometheus promtool alertmanager amtool; do
    [ -x "$bin/$tool" ] || return 1
    at_least "$(version_of "$bin/$tool")" "$(floor_of "$tool")" || return 1
  done
}

link() {  # link TARGET NAME: bin/NAME -> TARGET (relative to the tools folder)
  [ -x "$tools/$1" ] || die "$1 is missing from what was unpacked"
  ln -sfn "../$1" "$bin/$2"
}

from_debian() {
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
    die "apt-get and dpkg-deb are needed on Debian"
  [ -r "$DEBIAN_KEYRING" ] || die "$DEBIAN_KEYRING is missing (Debian's debian-archive-keyring)"
  local apt="$tools/.apt" debs="$tools/.apt/debs"
  rm -rf "$apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$debs"
  echo "deb [signed-by=$DEBIAN_KEYRING] $DEBIAN_MIRROR $DEBIAN_SUITE main" >"$apt/sources.list"
  # A private sources list, package lists and cache: the system's apt state is only read.
  local opts=(
    -o "Dir::Etc::sourcelist=$apt/sources.list"
    -o "Dir::Etc::sourceparts=/dev/null"
    -o "Dir::Etc::preferencesparts=/dev/null"
    -o "Dir::State::Lists=$apt/lists"
    -o "Dir::Cache=$apt/cache"
  )
  [ "$(id -u)" = 0 ] && opts+=(-o "APT::Sandbox::User=root")
  say "downloading prometheus, promtool and prometheus-alertmanager from $DEBIAN_MIRROR $DEBIAN_SUITE"
  apt-get "${opts[@]}" -qq update
  (cd "$debs" && apt-get "${opts[@]}" -qq download prometheus promtool prometheus-alertmanager)
  rm -rf "$tools/debian.new"
  local deb
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$tools/debian.new"; done
  rm -rf "$tools/debian" "$apt"
  mv "$tools/debian.new" "$tools/debian"
  mkdir -p "$bin"
  link debian/usr/bin/prometheus prometheus
  link debian/usr/bin/promtool promtool
  # Debian's alertmanager reads its templates from /usr/share/prometheus: it starts through
  # a launcher that provides that path privately (scripts/alertmanager-launcher.sh says how).
  install -m 0755 "$root/scripts/alertmanager-launcher.sh" "$bin/alertmanager"
  link debian/usr/bin/amtool amtool
}

fetch() {  # fetch URL SHA256 FILE: download and refuse anything but the pinned archive
  curl -fsSL --retry 3 -o "$3" "$1" || die "cannot download $1"
  echo "$2  $3" | sha256sum -c --quiet - || die "$1 does not match its pinned sha256 $2"
}

from_upstream() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) die "no pinned upstream archive for $(uname -s)-$(uname -m): only linux-amd64 is pinned" ;;
  esac
  command -v curl >/dev/null && command -v sha256sum >/dev/null || die "curl and sha256sum are needed"
  local work="$tools/.download" base="$PROMETHEUS_RELEASES"
  local prom="prometheus-$PROMETHEUS_VERSION.linux-amd64"
  local am="alertmanager-$ALERTMANAGER_VERSION.linux-amd64"
  rm -rf "$work" "$tools/upstream.new"
  mkdir -p "$work" "$tools/upstream.new"
  say "downloading $prom and $am from $base"
  fetch "$base/prometheus/releases/download/v$PROMETHEUS_VERSION/$prom.tar.gz" \
    "$PROMETHEUS_SHA256" "$work/$prom.tar.gz"
  fetch "$base/alertmanager/releases/download/v$ALERTMANAGER_VERSION/$am.tar.gz" \
    "$ALERTMANAGER_SHA256" "$work/$am.tar.gz"
  tar -xzf "$work/$prom.tar.gz" -C "$tools/upstream.new" --strip-components=1 \
    "$prom/prometheus" "$prom/promtool"
  tar -xzf "$work/$am.tar.gz" -C "$tools/upstream.new" --strip-components=1 \
    "$am/alertmanager" "$am/amtool"
  rm -rf "$tools/upstream" "$work"
  mv "$tools/upstream.new" "$tools/upstream"
  mkdir -p "$bin"
  local tool
  for tool in prometheus promtool alertmanager amtool; do link "upstream/$tool" "$tool"; done
}

source_kind() {
  if [ -n "${ESTATE_TOOLS_SOURCE:-}" ]; then
    echo "$ESTATE_TOOLS_SOURCE"
    return
  fi
  local id=""
  # shellcheck disable=SC1091
  [ -r /etc/os-release ] && id="$(. /etc/os-release && echo "${ID:-}")"
  if [ "$id" = debian ]; then echo debian; else echo upstream; fi
}

if installed; then
  say "up to date in $tools"
  if [ -x "$tools/debian/usr/bin/prometheus-alertmanager" ] &&
    ! cmp -s "$root/scripts/alertmanager-launcher.sh" "$bin/alertmanager"; then
    say "updating the alertmanager launcher"
    install -m 0755 "$root/scripts/alertmanager-launcher.sh" "$bin/alertmanager"
  fi
else
  mkdir -p "$tools"
  case "$(source_kind)" in
    debian) from_debian ;;
    upstream) from_upstream ;;
    *) die "ESTATE_TOOLS_SOURCE must be debian or upstream, not ${ESTATE_TOOLS_SOURCE:-}" ;;
  esac
  for tool in prometheus promtool alertmanager amtool; do
    version="$(version_of "$bin/$tool")"
    at_least "$version" "$(floor_of "$tool")" ||
      die "$tool ${version:-(does not run)} is below the floor $(floor_of "$tool")"
  done
fi
for tool in prometheus promtool alertmanager amtool; do
  printf '%-12s %-8s %s\n' "$tool" "$(version_of "$bin/$tool")" "$bin/$tool"
done
