#!/usr/bin/env bash
# Builds the swarm-agent container image from this checkout's own binaries.
#
#   scripts/build-agent-image.sh [TAG]        (default TAG: swarm-agent:dev)
#
# 1. compiles static `swarm-agent`, `swarmctl` and `swarmd` (glibc,
#    +crt-static) into a target directory of their own, so the normal build
#    keeps its flags;
# 2. builds docker/agent.Dockerfile (FROM scratch) in a temporary context
#    holding the agent, swarmctl and a static busybox;
# 3. checks that the binaries really run inside the image;
# 4. prints the image id on stdout (everything else goes to stderr).
#
# scripts/build-images.sh builds this image and swarmd's.
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

script=build-agent-image
# shellcheck source=scripts/lib/images.sh
. "$(dirname "$0")/lib/images.sh"

images_args 1 "the image tag" "$@"

images_preflight
images_compile
agent_image "${1:-swarm-agent:dev}"
echo "$image_id"
