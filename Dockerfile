# Spool broker image. Build context: the repository root (see .dockerignore).
#   docker build -t spool-broker .
#   docker run -e SPOOL_DATA_DIR=/var/lib/spool -v spool-data:/var/lib/spool spool-broker

# Production dependencies. The full node image has the toolchain (python3, make, g++) for native
# modules that have no prebuilt binary for the platform.
FROM node:20-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# TypeScript compilation to dist/ (needs the dev dependencies: typescript, @types/node).
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY protocol protocol
COPY broker broker
COPY archive archive
COPY client client
RUN npx tsc -p tsconfig.build.json

# Runtime: slim Node 20, production dependencies and compiled JavaScript only.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    SPOOL_DATA_DIR=/var/lib/spool \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
WORKDIR /app
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /var/lib/spool && chown node:node /var/lib/spool
USER node
EXPOSE 9092
# SIGTERM reaches node directly (exec form, PID 1) and starts the graceful shutdown.
ENTRYPOINT ["node", "dist/broker/main.js"]
