# The stoQ image: the CLI, the built workflow bundle and the built-in plugins.
# Run as `stoq worker` (the default), or any other stoq command.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/npm-placeholders scripts/npm-placeholders
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# exiftool-vendored runs ExifTool on the system Perl.
RUN apt-get update && apt-get install -y --no-install-recommends perl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
ENV STOQ_HOME=/var/lib/stoq NODE_ENV=production
VOLUME /var/lib/stoq
USER node
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["worker"]
