# The swarmd image: the coordinator, a static binary on `scratch`.
#
# Built by scripts/build-images.sh, which fills a temporary context with
# the files named below; do not build this file by hand from the
# repository root (the binaries are not there).
#
#   /swarmd                   the coordinator, the entry point
#   /usr/local/bin/swarmctl   the operator's command line, for `docker exec`
#   /bin/busybox, /bin/*      a shell for gate Check commands and debugging
#   /data                     the workdir (state in /data/.swarm/), a volume:
#                             it outlives the container, so a coordinator
#                             killed and started again carries on
#   /tmp                      scratch space (world-writable, sticky)
#
# It listens on 0.0.0.0:7420 (SWARM_LISTEN), which off loopback needs TLS
# (--tls-cert/--tls-key, from `swarmd certs init`) or --insecure.
FROM scratch

COPY busybox /bin/busybox
# Exec form: there is no shell yet. `--install -s /bin` links every applet
# to busybox.
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/busybox", "sh", "-c", "mkdir -p /data /tmp /usr/local/bin && chmod 1777 /tmp"]

COPY swarmctl /usr/local/bin/swarmctl
COPY swarmd /swarmd

ENV PATH=/usr/local/bin:/bin SWARM_LISTEN=0.0.0.0:7420 SWARM_WORKDIR=/data
VOLUME /data
WORKDIR /data
EXPOSE 7420
ENTRYPOINT ["/swarmd"]
