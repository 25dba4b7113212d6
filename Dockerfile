# unleak in a container: a build stage with the Rust toolchain, and a small runtime stage with only the
# binary, git and git-filter-repo (audit reads repositories; the rewrite script `unleak respond` writes
# runs git-filter-repo, so it runs inside the image too). The release workflow publishes it.
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
    && apt-get install -y --no-install-recommends git git-filter-repo ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && git filter-repo --version \
    && git config --system --add safe.directory '*'
COPY --from=build /src/target/release/unleak /usr/local/bin/unleak
RUN useradd --create-home --uid 10001 unleak
USER unleak
WORKDIR /repo
ENTRYPOINT ["unleak"]
CMD ["--help"]
