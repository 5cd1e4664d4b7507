# One Dockerfile for the three services; pick one with --build-arg SERVICE=threads|gateway|chat-worker
# (the compose file does). Multi-stage: uv resolves from uv.lock in the builder, the runtime
# image gets only the virtual environment and runs as an unprivileged user.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS builder
ARG SERVICE=gateway
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY libs ./libs
COPY services ./services
COPY tools ./tools
RUN uv sync --frozen --no-dev --no-editable --package "switchboard-${SERVICE}"

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ARG SERVICE=gateway
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 SERVICE=${SERVICE}
RUN groupadd --system --gid 10001 switchboard \
    && useradd --system --uid 10001 --gid switchboard --no-create-home switchboard
COPY --from=builder --chown=switchboard:switchboard /app/.venv /app/.venv
USER 10001:10001
WORKDIR /app
# Each service answers on its health port: the gateway on 8000, threads and chat-worker on
# their metrics port (9100). The compose file sets the command per service.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os,urllib.request; urllib.request.urlopen(os.environ.get('HEALTH_URL','http://127.0.0.1:8000/healthz'), timeout=2)"]
CMD ["sh", "-c", "exec switchboard-${SERVICE}"]
