# Shared by scripts/build-agent-image.sh and scripts/build-images.sh:
# sourced, not run. Builds the project's container images from this
# checkout's own static binaries on `FROM scratch` (nothing is pulled, so it
# works without a registry).
#
# The caller sets `script` (its name, for messages) before sourcing, then:
#   images_args MAX WHAT "$@" handles --help and too many arguments
#   images_preflight          checks the tools, the engine and the host target
#   images_compile            static swarm-agent, swarmctl and swarmd into $bin
#   images_build TAG DOCKERFILE FILE...
#                             builds DOCKERFILE in a temporary context holding
#                             FILE... (paths under $bin) and busybox; sets $image_id
#   agent_image TAG, swarmd_image TAG
#                             build one of the two images and check that its
#                             binaries run; set $image_id
#
# Environment:
#   DOCKER_HOST                the engine to build on (docker CLI default)
#   BUSYBOX                    a statically linked busybox (default /bin/busybox;
#                              Debian/Ubuntu: apt-get install busybox-static)
#   SWARM_STATIC_TARGET_DIR    where the static build goes
#                              (default ${CARGO_TARGET_DIR:-target}/static)

say() { printf '%s: %s\n' "$script" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Prints the comment block at the top of the calling script (its --help).
usage() { sed -n '2,/^set -e/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
busybox="${BUSYBOX:-/bin/busybox}"
target_dir="${SWARM_STATIC_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}/static}"

# Handles -h/--help, and refuses more than MAX arguments, which are WHAT.
images_args() {
  local max="$1" what="$2"
  shift 2
  if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
    usage
    exit 0
  fi
  if [ "$#" -gt "$max" ]; then
    usage >&2
    die "expected at most $max argument(s), $what (got $#: $*)"
  fi
}

images_preflight() {
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
}

# One build of all three binaries, whichever image is wanted, so both
# scripts share cargo's cache and never rebuild for each other.
images_compile() {
  say "compiling static swarm-agent, swarmctl and swarmd for $host into $target_dir"
  (
    cd "$root"
    unset CARGO_ENCODED_RUSTFLAGS
    # With an explicit --target, RUSTFLAGS reach only the target artefacts,
    # not build scripts or proc macros, which must stay dynamic.
    RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
      cargo build --release --locked -p swarm-agent -p swarm-ctl -p swarm-coordinator \
      --target "$host" --target-dir "$target_dir" >&2
  )
  bin="$target_dir/$host/release"
}

images_build() {
  local tag="$1" dockerfile="$2"
  shift 2
  local context
  context="$(mktemp -d "${TMPDIR:-/tmp}/swarm-image.XXXXXX")"
  # shellcheck disable=SC2064 # this context, now
  trap "rm -rf '$context'" EXIT
  cp "$root/$dockerfile" "$context/Dockerfile"
  for f in "$@"; do
    cp "$bin/$f" "$context/"
  done
  cp "$busybox" "$context/busybox"
  say "building image $tag"
  docker build --iidfile "$context/image-id" -t "$tag" "$context" >&2 ||
    die "docker build of $tag failed (Dockerfile $dockerfile)"
  image_id="$(cat "$context/image-id")"
  rm -rf "$context"
}

# Builds TAG from DOCKERFILE with FILE..., then checks that the entry
# point ENTRY and swarmctl run inside it (they are really static) and that
# DIR, its working directory, is writable.
checked_image() {
  local tag="$1" dockerfile="$2" entry="$3" dir="$4"
  shift 4
  images_build "$tag" "$dockerfile" "$@"
  say "checking that the binaries run inside $tag"
  docker run --rm --network none "$tag" --version >&2 ||
    die "/$entry does not run inside $tag; is it really statically linked?"
  docker run --rm --network none --entrypoint /bin/sh "$tag" \
    -c "swarmctl --version && test -w $dir && test \"\$(pwd)\" = $dir" >&2 ||
    die "/bin/sh, swarmctl or the writable $dir is missing from $tag"
}

# The agent image as TAG: tasks run in /work.
agent_image() {
  checked_image "$1" docker/agent.Dockerfile swarm-agent /work swarm-agent swarmctl
}

# The coordinator's image as TAG: its workdir is /data, a volume.
swarmd_image() {
  checked_image "$1" docker/swarmd.Dockerfile swarmd /data swarmd swarmctl
}
