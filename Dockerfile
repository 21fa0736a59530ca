# syntax=docker/dockerfile:1
# Parley's image: built in one stage (dev dependencies, tsc, the studio and widget bundles), run in
# another from Debian's slim Node image with production dependencies only, as the `node` user.
# Build: docker build -t parley .      Run: see docs/deploy.md (PARLEY_SECRET_KEY, DATABASE_URL, REDIS_URL).

FROM node:20.20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `prepare` builds dist/, which needs the sources: install without scripts, then build explicitly.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3
COPY . .
RUN npm run build
# Production dependencies alone, in their own folder, compiled here (same Debian release as the
# runtime image, so the native better-sqlite3 addon matches its glibc).
RUN mkdir /prod && cp package.json package-lock.json /prod/ \
 && cd /prod && npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3

FROM node:20.20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    LOG_LEVEL=info
WORKDIR /app
COPY --from=build --chown=node:node /prod/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/package.json ./package.json
# The embedded default keeps its SQLite file and generated secret here; mount a volume on it, or
# set DATABASE_URL (PostgreSQL) and PARLEY_SECRET_KEY so the container keeps nothing.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 8080
# SIGTERM drains streams, runs and jobs within SHUTDOWN_TIMEOUT_MS (10 s by default).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
