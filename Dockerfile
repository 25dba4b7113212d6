# unleak in a container: a build stage with the Rust toolchain, and a small runtime stage with only the
# binary and git (audit reads repositories; respond's rewrite plan drives git-filter-repo, not bundled).
#
#   docker build -t unleak .
#   docker run --rm -v "$PWD:/repo" unleak audit /repo
#
# scripts/docker-build.sh builds it and runs a smoke test (tests cannot: docker is not always there).

FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY tests ./tests
RUN cargo build --release --locked --bin unleak \
    && strip target/release/unleak

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory '*'
COPY --from=build /src/target/release/unleak /usr/local/bin/unleak
RUN useradd --create-home --uid 10001 unleak
USER unleak
WORKDIR /repo
ENTRYPOINT ["unleak"]
CMD ["--help"]
