# The swarm-agent image: the project's own static binaries on `scratch`.
#
# Built by scripts/build-agent-image.sh, which fills a temporary context
# with the files named below; do not build this file by hand from the
# repository root (the binaries are not there).
#
#   /swarm-agent              the agent, the entry point
#   /usr/local/bin/swarmctl   so tasks can use shared memory
#   /bin/busybox, /bin/*      a shell and the usual tools for `sh -c` tasks
#   /work                     the tasks' working directory (writable)
#   /tmp                      scratch space (world-writable, sticky)
FROM scratch

COPY busybox /bin/busybox
# Exec form: there is no shell yet. `--install -s /bin` links every applet
# (sh, mkdir, sleep, test, ...) to busybox.
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/busybox", "sh", "-c", "mkdir -p /work /tmp /usr/local/bin && chmod 1777 /tmp"]

COPY swarmctl /usr/local/bin/swarmctl
COPY swarm-agent /swarm-agent

ENV PATH=/usr/local/bin:/bin
WORKDIR /work
ENTRYPOINT ["/swarm-agent"]
CMD ["--help"]
