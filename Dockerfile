# A slim image that applies the migrations, then serves the API against DATABASE_URL.
# It runs in production mode: it refuses to start without a strong SECRET_KEY and the WeChat
# settings, and has no development login and no demo data.
#   docker build -t wenming-dispatch .
#   docker run -p 8000:8000 -e SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))') \
#     -e WECHAT_APP_ID=wx... -e WECHAT_APP_SECRET=... \
#     -e DATABASE_URL=postgresql://user:pass@db:5432/wenming wenming-dispatch
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENV=production \
    LOG_JSON=true

WORKDIR /srv/wenming
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install . && useradd --system --uid 10001 wenming \
    && mkdir -p data && chown wenming data
COPY alembic.ini ./
COPY migrations ./migrations

USER wenming
EXPOSE 8000
# ALEMBIC_CONFIG lets `alembic upgrade` find the migrations next to the installed package.
ENV ALEMBIC_CONFIG=/srv/wenming/alembic.ini
CMD ["sh", "-c", "wenming migrate && exec uvicorn app.main:create_app --factory --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2} --no-proxy-headers"]
# Behind a reverse proxy, set TRUSTED_PROXIES to its address: the app then reads the client
# address from X-Forwarded-For (for sign-in throttling). Probes: /healthz (alive),
# /readyz (database reachable and migrated; 503 otherwise).
