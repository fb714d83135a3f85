FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
USER node
EXPOSE 4000
# Young-generation cap: Node 24 sizes it from the machine's memory, which cost ~100 MB of RSS
# under load for no throughput (npm run bench); the same flag as `npm run start:behalf`.
CMD ["node", "--max-semi-space-size=16", "dist/src/main.js"]
