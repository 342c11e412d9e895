# syntax=docker/dockerfile:1
# Multi-stage build: compile with the Rust toolchain, run as a non-root user on a slim base.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY config ./config
COPY tests ./tests
COPY docs ./docs
COPY examples ./examples
RUN cargo build --release --locked --bin aarthik-bff

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home bff
WORKDIR /app
COPY --from=build /src/target/release/aarthik-bff /usr/local/bin/aarthik-bff
COPY config ./config
USER 10001
ENV BFF_ENV=production \
    BFF__SERVER__HOST=0.0.0.0 \
    BFF__SERVER__PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/aarthik-bff"]
CMD ["serve"]
