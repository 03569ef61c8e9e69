# The production image. The web service runs gunicorn (static files served by whitenoise);
# the Celery worker and beat run from the same image. See docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=dropout_ledger.settings.production \
    MEDIA_ROOT=/data/media

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Production settings refuse to load without SECRET_KEY; this throwaway one serves collectstatic only
# and is not kept in the image. The real key comes from the environment at run time.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input \
    && useradd --system --no-create-home --home-dir /app ledger \
    && mkdir -p /data/media \
    && chown ledger /data/media

USER ledger
EXPOSE 8000
CMD ["gunicorn", "dropout_ledger.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
