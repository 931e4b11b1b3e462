# codexgov server image: a static binary on an empty base, run as a
# non-root user, with a health check. Build:
#   docker build --build-arg VERSION=$(git describe --tags --always) -t codexgov .
# Run (data in a volume; the first start prints the admin key in the logs):
#   docker run -p 7700:7700 -v codexgov-data:/data codexgov
# TestDockerfile checks these stages without a Docker engine.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/codexgov/codexgov/internal/buildinfo.version=${VERSION}" -o /out/codexgov ./cmd/codexgov
# The runtime has no shell: its files are prepared here.
RUN mkdir -p /out/rootfs/data /out/rootfs/tmp /out/rootfs/etc/ssl/certs \
 && echo 'codexgov:x:65532:65532:codexgov:/data:/sbin/nologin' > /out/rootfs/etc/passwd \
 && echo 'codexgov:x:65532:' > /out/rootfs/etc/group \
 && cp /etc/ssl/certs/ca-certificates.crt /out/rootfs/etc/ssl/certs/ \
 && chown -R 65532:65532 /out/rootfs/data && chmod 1777 /out/rootfs/tmp

FROM scratch
COPY --from=build /out/rootfs/ /
COPY --from=build /out/codexgov /codexgov
USER 65532:65532
ENV CODEXGOV_LISTEN=0.0.0.0:7700 CODEXGOV_DATA_DIR=/data
EXPOSE 7700
VOLUME /data
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["/codexgov", "server", "healthcheck"]
ENTRYPOINT ["/codexgov"]
CMD ["server"]
