#!/usr/bin/env bash
# Builds the swarm-agent container image from this checkout's own binaries.
#
#   scripts/build-agent-image.sh [TAG]        (default TAG: swarm-agent:dev)
#
# 1. compiles static `swarm-agent` and `swarmctl` (glibc, +crt-static) into
#    a target directory of their own, so the normal build keeps its flags;
# 2. builds docker/agent.Dockerfile (FROM scratch) in a temporary context
#    holding those binaries and a static busybox;
# 3. checks that the binaries really run inside the image;
# 4. prints the image id on stdout (everything else goes to stderr).
#
# Idempotent: a second run with unchanged sources reuses cargo's and the
# engine's caches. Nothing is pulled, so it works without a registry.
#
# Environment:
#   DOCKER_HOST                the engine to build on (docker CLI default)
#   BUSYBOX                    a statically linked busybox (default /bin/busybox;
#                              Debian/Ubuntu: apt-get install busybox-static)
#   SWARM_STATIC_TARGET_DIR    where the static build goes
#                              (default ${CARGO_TARGET_DIR:-target}/static)
set -euo pipefail

say() { printf 'build-agent-image: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

usage() { sed -n '2,/^set -e/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; }
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  usage
  exit 0
fi
if [ "$#" -gt 1 ]; then
  usage >&2
  die "expected at most one argument, the image tag (got $#: $*)"
fi
tag="${1:-swarm-agent:dev}"
root="$(cd "$(dirname "$0")/.." && pwd)"
busybox="${BUSYBOX:-/bin/busybox}"
target_dir="${SWARM_STATIC_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}/static}"

command -v docker >/dev/null || die "the docker CLI is not on PATH; install it (the engine may be remote, via DOCKER_HOST)"
command -v cargo >/dev/null || die "cargo is not on PATH; install Rust (https://rustup.rs)"
[ -x "$busybox" ] || die "no busybox at $busybox; install a static one (apt-get install busybox-static) or set BUSYBOX=/path/to/busybox"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "cannot reach the Docker engine at ${DOCKER_HOST:-the default local socket}; start it or point DOCKER_HOST at a running one"

host="$(rustc -vV | sed -n 's/^host: //p')"
case "$host" in
  *-linux-gnu | *-linux-musl) ;;
  *) die "host target $host cannot link a static Linux binary here; valid hosts are *-linux-gnu or *-linux-musl" ;;
esac

say "compiling static swarm-agent and swarmctl for $host into $target_dir"
(
  cd "$root"
  unset CARGO_ENCODED_RUSTFLAGS
  # With an explicit --target, RUSTFLAGS reach only the target artefacts,
  # not build scripts or proc macros, which must stay dynamic.
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --locked -p swarm-agent -p swarm-ctl \
    --target "$host" --target-dir "$target_dir" >&2
)
bin="$target_dir/$host/release"

context="$(mktemp -d "${TMPDIR:-/tmp}/swarm-agent-image.XXXXXX")"
trap 'rm -rf "$context"' EXIT
cp "$root/docker/agent.Dockerfile" "$context/Dockerfile"
cp "$bin/swarm-agent" "$bin/swarmctl" "$context/"
cp "$busybox" "$context/busybox"

say "building image $tag"
docker build --iidfile "$context/image-id" -t "$tag" "$context" >&2 ||
  die "docker build of $tag failed (context $context, Dockerfile docker/agent.Dockerfile)"

say "checking that the binaries run inside $tag"
docker run --rm --network none "$tag" --version >&2 ||
  die "/swarm-agent does not run inside $tag; is it really statically linked?"
docker run --rm --network none --entrypoint /bin/sh "$tag" \
  -c 'swarmctl --version && test -w /work && test "$(pwd)" = /work' >&2 ||
  die "/bin/sh, swarmctl or the writable /work is missing from $tag"

cat "$context/image-id"
echo
