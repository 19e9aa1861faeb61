# Build stage: install Buurtbot and its dependencies into a virtual environment.
FROM python:3.12-slim AS build
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The pinned versions of requirements.lock first, then Buurtbot itself without resolving again.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir --no-deps .

# Run stage: the virtual environment, the flows and catalogs, a non-root user.
FROM python:3.12-slim
RUN useradd --create-home --uid 10001 buurtbot
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY conversations ./conversations
COPY locales ./locales
COPY buurtbot.yaml ./
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    BUURTBOT_DATA_DIR=/data \
    BUURTBOT_DATABASE_URL=sqlite:////data/buurtbot.db \
    BUURTBOT_DASHBOARD_LISTEN=0.0.0.0:8000
# The coordinators' dashboard (put it behind your HTTPS proxy; set BUURTBOT_PUBLIC_URL).
EXPOSE 8000
RUN mkdir /data && chown buurtbot /data
VOLUME ["/data"]
USER buurtbot
# `buurtbot run` writes a heartbeat every 15 s; unhealthy when it is old or a part fails.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["buurtbot", "health"]
CMD ["buurtbot", "run"]
