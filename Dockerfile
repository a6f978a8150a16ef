# syntax=docker/dockerfile:1
# footwear serve in a container. Not built in this repository's CI (no Docker engine there):
# docs/scaling-out.md lists the commands that check it.
#
#   docker build -t footwear:0.1.0 .                       # model mounted at /models/model
#   docker run --rm -p 8080:8080 -v "$PWD/models/shoes:/models/model:ro" footwear:0.1.0
#   docker build --target baked --build-arg MODEL_DIR=models/shoes -t footwear-shoes:0.1.0 .
#
# The build stage compiles TypeScript to dist/ (`npm run build`); the image holds dist/ and bin/
# but no src/, so bin/footwear.js runs the built JavaScript (it runs src/ through tsx only in a
# source checkout, and tsx is a dev dependency that never reaches the image).

ARG NODE_VERSION=24

# Build: every dependency, then the checks that must pass before an image exists.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script would download its CUDA build; the CPU build is bundled.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
RUN npm run build

# Runtime dependencies only, installed apart so dev tools never reach the image.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
# The base image's unprivileged "node" user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080
# Ready once the model is loaded and warm (503 while loading and while draining). node, not curl:
# the slim image has no curl, and node is what is certainly there.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/v2/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, node as PID 1 with no npm or shell between: SIGTERM reaches serve, which drains.
ENTRYPOINT ["node", "bin/footwear.js"]
# --host 0.0.0.0: serve listens on loopback only unless told otherwise. Kubernetes `args` replace this.
CMD ["serve", "--model", "/models/model", "--host", "0.0.0.0", "--port", "8080"]

# The same image with a model inside: docker build --target baked --build-arg MODEL_DIR=models/shoes .
# Only model.onnx is needed: its labels and preprocessing travel in its metadata.
FROM runtime AS baked
ARG MODEL_DIR=models/model
COPY ${MODEL_DIR}/model.onnx /models/model/model.onnx

# The default target: no model inside; mount one at /models/model.
FROM runtime AS mounted
