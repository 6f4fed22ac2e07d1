# syntax=docker/dockerfile:1
# Postern's image: build the broker (with the admin UI) from source, run it on a JRE as uid 10001.
#   docker build -t postern:dev .
# BuildKit is needed for the cache mounts (the default builder since Docker 23).

# The build needs Java 25 for Maven and Node 20.19+ for the admin UI's Vite; the Maven image's
# Ubuntu ships an older Node, so the official Node binaries are copied in from the Node image.
FROM node:22-bookworm-slim AS node

FROM maven:3.9-eclipse-temurin-25 AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && node --version && npm --version
WORKDIR /src
COPY . .
# The cache mounts keep Maven's and npm's downloads between builds; they never reach the image.
RUN --mount=type=cache,target=/root/.m2 \
    --mount=type=cache,target=/root/.npm \
    ./mvnw -B -ntp -DskipTests package \
    && cp broker/target/postern-broker-*.jar /src/app.jar
# Spring Boot's layers (dependencies, loader, snapshot dependencies, application) become image
# layers below, so a code change rebuilds only the small application layer.
RUN java -Djarmode=tools -jar /src/app.jar extract --layers --launcher --destination /src/extracted

FROM eclipse-temurin:25-jre
# A fixed uid/gid that the Helm chart's runAsUser and fsGroup (10001) match; no login shell.
RUN groupadd --system --gid 10001 postern \
    && useradd --system --uid 10001 --gid postern --no-create-home --home-dir /app --shell /usr/sbin/nologin postern \
    && mkdir -p /app/data && chown 10001:10001 /app/data && chmod 0700 /app/data
WORKDIR /app
COPY --from=build --chown=root:root /src/extracted/dependencies/ ./
COPY --from=build --chown=root:root /src/extracted/spring-boot-loader/ ./
COPY --from=build --chown=root:root /src/extracted/snapshot-dependencies/ ./
COPY --from=build --chown=root:root /src/extracted/application/ ./
# Root owns the code so the running user cannot change it. The broker writes only to /tmp and,
# with the embedded store outside Kubernetes, to /app/data (mount a volume there to keep it).
USER 10001:10001
# Outside Kubernetes the broker must listen beyond loopback too; the chart sets the same.
ENV POSTERN_ADDRESS=0.0.0.0 \
    POSTERN_PORT=8080
EXPOSE 8080
ENTRYPOINT ["java", "org.springframework.boot.loader.launch.JarLauncher"]
