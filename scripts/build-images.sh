#!/usr/bin/env bash
# Builds both container images from this checkout's own binaries:
#
#   scripts/build-images.sh [AGENT_TAG [SWARMD_TAG]]
#                                   (defaults: swarm-agent:dev swarmd:dev)
#
#   swarm-agent:dev   docker/agent.Dockerfile: /swarm-agent (the entry
#                     point), swarmctl, busybox; tasks run in /work
#   swarmd:dev        docker/swarmd.Dockerfile: /swarmd (the entry point,
#                     listening on 0.0.0.0:7420 with its workdir /data, a
#                     volume), swarmctl, busybox
#
# Both are FROM scratch around static binaries (glibc, +crt-static) compiled
# once into a target directory of their own; nothing is pulled. Each image
# is checked to run; then one line per image goes to stdout, `TAG IMAGE-ID`
# (everything else goes to stderr).
#
# A coordinator in a container is reached by the container's name on a
# user-defined network (agents: --coordinator https://swarmd:7420); off
# loopback, swarmd wants TLS (swarmd certs init) or --insecure.
#
# Environment:
#   DOCKER_HOST                the engine to build on (docker CLI default)
#   BUSYBOX                    a statically linked busybox (default /bin/busybox;
#                              Debian/Ubuntu: apt-get install busybox-static)
#   SWARM_STATIC_TARGET_DIR    where the static build goes
#                              (default ${CARGO_TARGET_DIR:-target}/static)
set -euo pipefail

script=build-images
# shellcheck source=scripts/lib/images.sh
. "$(dirname "$0")/lib/images.sh"

images_args 2 "the agent's and swarmd's image tags" "$@"
agent_tag="${1:-swarm-agent:dev}"
swarmd_tag="${2:-swarmd:dev}"

images_preflight
images_compile
agent_image "$agent_tag"
echo "$agent_tag $image_id"
swarmd_image "$swarmd_tag"
echo "$swarmd_tag $image_id"
