# The bot's image. CPU (default) and NVIDIA CUDA (`--build-arg GPU=cuda`): see docs/operating.md.
#   docker build -t llama-discord-bot .
#   docker run -d --env-file .env -v bot-data:/app/data -v bot-models:/app/models llama-discord-bot
# Debian, not alpine: node-llama-cpp's prebuilt binaries need glibc.
# Settings and metadata come before the big layers: the fewer steps after them, the faster it builds.
ARG BASE_IMAGE=node:20-bookworm-slim

# 1. Build: every dependency, then the TypeScript build.
FROM ${BASE_IMAGE} AS build
# node-llama-cpp's install step must not download or compile anything: its prebuilt binaries are npm packages
ENV NODE_LLAMA_CPP_SKIP_DOWNLOAD=true
WORKDIR /build
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# the GPU binaries (about 620 MB) are not needed to compile; --ignore-scripts: no CPU library compiled for the
# CPU that builds the image (scripts/buildCpuLibrary.mjs), which runs on others
RUN npm ci --ignore-scripts --no-audit --no-fund --cache /tmp/npm-cache && rm -rf /tmp/npm-cache \
    && rm -rf node_modules/@node-llama-cpp/*-cuda* node_modules/@node-llama-cpp/*-vulkan
COPY src ./src
RUN npm run build --silent

# 2. Run: production dependencies, dist/, a non-root user.
FROM ${BASE_IMAGE}
# cpu, or cuda: CUDA's runtime libraries from NVIDIA's apt repository (node-llama-cpp's Docker guide).
# node-llama-cpp 3.21.1's CUDA binary links CUDA 13 (driver 580 or newer); CUDA_VERSION=12-8 serves older
# drivers through its CUDA 12 fallback binary. NVARCH=sbsa on ARM64.
ARG GPU=cpu
ARG CUDA_VERSION=13-0
ARG NVARCH=x86_64
ENV NODE_LLAMA_CPP_SKIP_DOWNLOAD=true MODELS_DIR=/app/models DATA_DIR=/app/data METRICS_PORT=9464
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# tini as PID 1: it hands SIGTERM to the bot (which then ends every answer and saves) and reaps the
# processes the bot's tools leave behind. The bot's folders belong to it and to nobody else; the code
# stays root's, read-only to the bot.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && if [ "$GPU" = cuda ]; then \
        apt-get install -y --no-install-recommends ca-certificates curl \
        && curl -fsSLo /tmp/cuda-keyring.deb "https://developer.download.nvidia.com/compute/cuda/repos/debian12/${NVARCH}/cuda-keyring_1.1-1_all.deb" \
        && dpkg -i /tmp/cuda-keyring.deb && rm /tmp/cuda-keyring.deb \
        && apt-get update \
        && apt-get install -y --no-install-recommends "cuda-cudart-${CUDA_VERSION}" "libcublas-${CUDA_VERSION}" \
        && apt-get purge -y --autoremove curl; \
    elif [ "$GPU" != cpu ]; then echo "GPU must be cpu or cuda, not $GPU" >&2; exit 1; fi \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && mkdir -p -m 700 /app/models /app/data && chown node:node /app/models /app/data
VOLUME ["/app/models", "/app/data"]
# /healthz on 127.0.0.1 (docs/metrics.md); METRICS_HOST=0.0.0.0 lets a Prometheus in another container scrape it
HEALTHCHECK --interval=30s --timeout=5s --start-period=10m --retries=3 \
    CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.METRICS_PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# `npm start` without npm, which would not wait for the bot on SIGTERM
CMD ["node", "dist/launch.cjs", "index.js"]
WORKDIR /app
COPY package.json package-lock.json ./
# the GPU binaries this image cannot use (hundreds of MB) are left out
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --cache /tmp/npm-cache && rm -rf /tmp/npm-cache \
    && if [ "$GPU" = cpu ]; then rm -rf node_modules/@node-llama-cpp/*-cuda* node_modules/@node-llama-cpp/*-vulkan; \
       else rm -rf node_modules/@node-llama-cpp/*-vulkan; fi
COPY --from=build /build/dist ./dist
USER node
