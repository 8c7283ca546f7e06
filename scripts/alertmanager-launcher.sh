#!/bin/sh
# Starts Debian's prometheus-alertmanager, unpacked into the tools folder, with the files it
# reads from a fixed path.
#
# Debian's build loads its default notification templates (and its UI) from
# /usr/share/prometheus/alertmanager, not from the binary, and refuses every config without
# them ("failed to parse templates: open /usr/share/prometheus/alertmanager/default.tmpl").
# `dpkg-deb -x` into .tools cannot put them there. Of the ways to provide that path, this one
# writes nothing outside the project: the binary runs in a private mount namespace (a user
# namespace too when not root) in which /usr/share/prometheus is the package's own copy from
# the tools folder (an overlay on /usr/share adds the path when the machine has none; a bind
# mount then puts exactly the package's tree there, hiding any other copy). Writing the files
# into the system's /usr/share instead would need root and leave files that no package owns
# where a later `apt-get install prometheus-alertmanager` puts its own; and the templates now
# always match the binary, whatever the machine holds.
#
# scripts/install-prometheus.sh installs this file as <tools>/bin/alertmanager; it finds the
# tools folder from its own location (symlinks resolved).
set -eu
# The system tools it needs (readlink, unshare, mount), whatever PATH the caller has.
PATH="/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"

self="$(readlink -f "$0")"
tools="$(cd "$(dirname "$self")/.." && pwd)"
binary="$tools/debian/usr/bin/prometheus-alertmanager"
share="$tools/debian/usr/share"

fail() {
  printf 'alertmanager launcher: %s\n' "$*" >&2
  exit 127
}

[ -x "$binary" ] || fail "$binary is missing: run \`make tools\`"
[ -d "$share/prometheus/alertmanager" ] || fail "$share/prometheus/alertmanager is missing: run \`make tools\`"
case "$share" in
  *[:,]*) fail "the tools folder's path ($tools) holds ':' or ',', which a mount option cannot" ;;
esac

if [ "${ESTATE_ALERTMANAGER_NAMESPACE:-}" != 1 ]; then
  # First pass: enter the namespace, then run this script again inside it.
  command -v unshare >/dev/null || fail "unshare (util-linux) is needed to start Debian's alertmanager"
  if [ "$(id -u)" = 0 ]; then ns="--mount"; else ns="--user --map-root-user --mount"; fi
  # shellcheck disable=SC2086  # $ns is a list of flags
  if unshare $ns true 2>/dev/null; then
    # shellcheck disable=SC2086
    ESTATE_ALERTMANAGER_NAMESPACE=1 exec unshare $ns --propagation private -- "$self" "$@"
  elif [ -r /usr/share/prometheus/alertmanager/default.tmpl ]; then
    printf 'alertmanager launcher: no private mount namespace (unshare %s); using %s\n' \
      "$ns" "the machine's own /usr/share/prometheus/alertmanager" >&2
    exec "$binary" "$@"
  fi
  fail "cannot create a private mount namespace (unshare $ns): install Debian's" \
    "prometheus-alertmanager package, or the upstream build" \
    "(\`ESTATE_TOOLS_SOURCE=upstream make tools\`), which need none"
fi

# Inside the namespace: nothing here is seen outside it, and it ends with the process.
unset ESTATE_ALERTMANAGER_NAMESPACE
if [ ! -d /usr/share/prometheus ]; then
  mount -t overlay overlay -o "lowerdir=$share:/usr/share" /usr/share ||
    fail "cannot add /usr/share/prometheus in the private namespace (overlay mount refused)"
fi
mount --bind "$share/prometheus" /usr/share/prometheus ||
  fail "cannot bind $share/prometheus at /usr/share/prometheus in the private namespace"
exec "$binary" "$@"
