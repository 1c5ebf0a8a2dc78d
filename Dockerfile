# syntax=docker/dockerfile:1
# isofficial: `docker build -t isofficial .`, then `docker run --env-file .env isofficial`
# (or `docker compose up` with compose.yaml: PostgreSQL and several replicas).

# Build: the distribution and its dependencies into a virtual environment.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/isofficial
ENV PATH=/opt/isofficial/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY adapters adapters
COPY knowledge knowledge
COPY isofficial isofficial
# The one install step, the same as CI's and the README's.
RUN pip install .

# Run: the environment only (no sources, no compiler), as an unprivileged user.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 isofficial \
    && mkdir /data && chown isofficial /data
COPY --from=build /opt/isofficial /opt/isofficial
ENV PATH=/opt/isofficial/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ISOFFICIAL_DATABASE_URL=sqlite+aiosqlite:////data/registry.sqlite3 \
    ISOFFICIAL_OPS_HOST=0.0.0.0 \
    ISOFFICIAL_OPS_PORT=9090 \
    ISOFFICIAL_LOG_FORMAT=json
USER isofficial
WORKDIR /home/isofficial
VOLUME ["/data"]
# 9090: /healthz and /metrics; 8443: Telegram webhook (`run --webhook`).
EXPOSE 9090 8443
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "isofficial.ops"]
ENTRYPOINT ["isofficial"]
CMD ["run"]
