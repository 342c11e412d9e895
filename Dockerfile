# syntax=docker/dockerfile:1
# Multi-stage build. Targets:
#   (default) `runtime` — the production binary, built WITHOUT the upstream simulator;
#   `demo`             — the binary with the embedded sandbox (`cargo run`'s demo, the compose kit).
FROM rust:1-slim-bookworm AS deps
WORKDIR /src
# Dependency-cache layer: the manifests and empty crate roots only, so editing the source does not
# rebuild every dependency.
COPY Cargo.toml Cargo.lock ./
COPY crates/contract/Cargo.toml crates/contract/Cargo.toml
COPY crates/sandbox/Cargo.toml crates/sandbox/Cargo.toml
RUN mkdir -p src crates/contract/src crates/sandbox/src crates/sandbox/tests tests/api \
 && echo 'fn main() {}' > src/main.rs && touch src/lib.rs tests/api/main.rs \
 && touch crates/contract/src/lib.rs crates/sandbox/src/lib.rs crates/sandbox/tests/main.rs \
 && cargo build --release --locked --no-default-features --bin aarthik-bff \
 && cargo build --release --locked --bin aarthik-bff \
 && rm -rf src crates/*/src

FROM deps AS build
COPY src ./src
COPY crates ./crates
COPY config ./config
COPY docs ./docs
# The ops console's page, compiled into the binary.
COPY console/index.html console/console.css console/console.js ./console/
# The crate roots above were placeholders: make sure cargo sees the real ones as newer.
RUN touch src/main.rs src/lib.rs crates/contract/src/lib.rs crates/sandbox/src/lib.rs \
 && cargo build --release --locked --no-default-features --bin aarthik-bff \
 && cp target/release/aarthik-bff /aarthik-bff \
 && cargo build --release --locked --bin aarthik-bff \
 && cp target/release/aarthik-bff /aarthik-bff-demo

# Base images are referenced by tag here; a release pins them by digest with scripts/pin-images.sh
# (see deploy/README.md), which rewrites these FROM lines to `image:tag@sha256:…`.
FROM debian:bookworm-slim AS base
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home bff
WORKDIR /app
EXPOSE 8080
# The binary checks itself: `healthcheck` reads the same configuration as `serve` (config files,
# BFF__SERVER__PORT, …) and GETs /healthz on loopback. No curl in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/aarthik-bff", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/aarthik-bff"]
CMD ["serve"]

# The demo: embedded sandbox, in-memory store, development defaults (never for production). It keeps
# config/default.toml (the development secrets, public in git) and curl for trying things inside.
FROM base AS demo
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
COPY config ./config
COPY --from=build /aarthik-bff-demo /usr/local/bin/aarthik-bff
USER 10001
ENV BFF__SERVER__HOST=0.0.0.0 \
    BFF__SERVER__PORT=8080

# The production image (last, so a plain `docker build .` produces it). It carries no development
# configuration: only config/production.toml. Every secret comes from the environment or a
# `*_FILE` (deploy/README.md), and with BFF_ENV=production the binary refuses to start while any
# development default (the values compiled in for `cargo run`) is still in use.
FROM base AS runtime
COPY config/production.toml ./config/production.toml
COPY --from=build /aarthik-bff /usr/local/bin/aarthik-bff
USER 10001
ENV BFF_ENV=production \
    BFF__SERVER__HOST=0.0.0.0 \
    BFF__SERVER__PORT=8080
