# syntax=docker/dockerfile:1

# Build stage: compile TypeScript to dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and compiled code only, as a non-root user.
# One image, several commands: the service (ROLE=all|api|worker), the Genesys
# Cloud simulator (dist/src/dev/simulator-cli.js) and the demo webhook receiver
# (dist/src/dev/webhook-receiver.js). Node is PID 1 and handles SIGTERM itself.
FROM node:24-bookworm-slim
LABEL org.opencontainers.image.title="genesys-provisioning" \
      org.opencontainers.image.description="HR to Genesys Cloud provisioning service"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/server.js"]
