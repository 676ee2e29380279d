# One image recipe for every labrun service: build the whole workspace once, run one app per image.
#   docker build --build-arg APP=broker -t labrun-broker .      (APP: broker, engine, hardware, gateway, notify, homeassistant, cli)
# docker-compose.yml builds one image per service this way.

FROM node:20-bookworm-slim AS build
ENV NX_DAEMON=false NX_NO_CLOUD=true
WORKDIR /labrun
# The workspaces' package.json files are spread over apps/ and libs/, so the whole context is copied at once;
# .dockerignore keeps node_modules, build output and caches out of it.
COPY . .
RUN npm ci --no-audit --no-fund
RUN npx nx run-many -t build
# Keep only what the services need at run time: production dependencies and the built dist/ folders.
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf .nx

FROM node:20-bookworm-slim
ARG APP
ENV NODE_ENV=production APP=${APP}
WORKDIR /labrun
COPY --from=build /labrun /labrun
# Fail the build, not the container, when APP names no app; /data is where the engine journals runs
# (owned by the unprivileged user so a named volume mounted there is writable).
RUN test -n "$APP" && test -f "apps/$APP/dist/main.js" || { echo "set --build-arg APP to one of: $(cd apps && echo *)" >&2; exit 1; }; \
    mkdir -p /data && chown node:node /data
USER node
# exec: node is PID 1 and receives SIGTERM itself, so the service shuts down cleanly on `docker stop`.
CMD ["sh", "-c", "exec node apps/$APP/dist/main.js"]
