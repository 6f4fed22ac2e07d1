# Shared by the scripts in this folder: sourced, not run.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Peers and tools are cached outside the repository, once per machine.
POSTERN_CACHE="${POSTERN_CACHE:-$HOME/.cache/postern}"
OPENBAO_VERSION="2.7.2"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The project builds with Java 25: take it from JAVA_HOME, the PATH or the Temurin install.
use_java25() {
  local candidate
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
    if [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] \
      && "$candidate/bin/java" -version 2>&1 | grep -qE 'version "(2[5-9]|[3-9][0-9])'; then
      export JAVA_HOME="$candidate"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  die "Java 25 is needed: install Temurin 25 (or set JAVA_HOME to a JDK 25)"
}

have() { command -v "$1" >/dev/null 2>&1; }

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until the broker at URL answers health UP; fails with its log's tail when the process PID
# exits first or SECONDS pass.
#   wait_broker_up URL PID LOG SECONDS
wait_broker_up() {
  local url="$1" pid="$2" log="$3" deadline=$(( $(date +%s) + $4 )) health=""
  while :; do
    health="$(curl -sS --max-time 2 "$url/actuator/health" 2>/dev/null || true)"
    case "$health" in *'"status":"UP"'*) return 0 ;; esac
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$log" >&2; die "the broker exited at start (log: $log)"; }
    [ "$(date +%s)" -lt "$deadline" ] || {
      tail -n 40 "$log" >&2
      die "the broker was not UP within $4 s (last health: ${health:-no answer}; log: $log)"
    }
    sleep 0.2
  done
}

# Installs Debian packages that are missing; apt-get update runs once, only when needed.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Debian's Chromium, not a browser downloaded by Playwright: the machine reaches only Debian's mirrors.
# The broker's end-to-end test (ChromiumOwnerBrowser) and scripts/test-ui drive it with playwright-core.
ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

# Go programs the bench measures or drives, built from the Go module proxy into the cache, once per
# version: `go mod download` fetches the module's source (the proxy serves it even for modules
# whose version list it refuses, so `go install …@version` is not used), and `go build` inside
# that directory makes the binary. Prints the binary's path.
#   go_build_cached MODULE VERSION PACKAGE OUTPUT
go_build_cached() {
  local module="$1" version="$2" package="$3" out="$4" dir
  if [ -x "$out" ]; then echo "$out"; return 0; fi
  have go || { [ -x /usr/local/go/bin/go ] && PATH="/usr/local/go/bin:$PATH"; } \
    || die "Go 1.22 or newer is needed to build $module (https://go.dev/dl/)"
  say "Building $module $version ($package) into $(dirname "$out")"
  dir="$(go mod download -json "$module@$version" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or ""); sys.exit(d.get("Error") or 0)')" \
    || die "go mod download $module@$version failed"
  mkdir -p "$(dirname "$out")"
  (cd "$dir" && GOFLAGS=-buildvcs=false go build -trimpath -o "$out.tmp" "./$package") \
    || die "building $module $version failed"
  mv "$out.tmp" "$out"
  echo "$out"
}
