# syntax=docker/dockerfile:1
#
# The ecs-deployment worker as a small image: built with the pinned toolchain from Cargo.lock, run as a
# non-root user on a distroless base that carries glibc and CA certificates and nothing else (no shell).
#
#   docker build -t ecs-deployment .                    # the worker (the last stage)
#   docker build -t ecs-sim --target ecs-sim .          # the ECS simulator, for docker-compose's local profile

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# Dependencies and build outputs are cached between builds (BuildKit cache mounts); --locked builds exactly
# what Cargo.lock pins.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p ecs-deployment -p ecs-sim \
    && install -D -m 0755 target/release/ecs-deployment /out/ecs-deployment \
    && install -D -m 0755 target/release/ecs-sim /out/ecs-sim

# The ECS simulator (docker-compose.yml's local profile).
FROM gcr.io/distroless/cc-debian12:nonroot AS ecs-sim
COPY --from=build /out/ecs-sim /usr/local/bin/ecs-sim
USER nonroot:nonroot
EXPOSE 9000
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/ecs-sim", "--listen", "0.0.0.0:9000"]

# The worker.
FROM gcr.io/distroless/cc-debian12:nonroot AS worker
COPY --from=build /out/ecs-deployment /usr/local/bin/ecs-deployment
USER nonroot:nonroot
# /healthz, /readyz and /metrics; the health check below probes it.
ENV HTTP_LISTEN=:8080 LOG_FORMAT=json
EXPOSE 8080
# What ECS and docker send to stop a container; the worker finishes or releases its deployments.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/ecs-deployment", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/ecs-deployment"]
CMD ["run"]
