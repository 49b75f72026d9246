FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# WeasyPrint (client report PDFs) lays out text with Pango and Debian's fonts.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY later later
COPY accounts accounts
COPY calendar_app calendar_app
COPY conversations conversations
COPY analytics analytics
COPY tiktok_client tiktok_client
COPY templates templates
COPY static static
COPY manage.py ./
RUN pip install --no-cache-dir . && DEBUG=True python manage.py collectstatic --noinput
RUN useradd --create-home later && mkdir -p /app/var && chown -R later /app/var
USER later
EXPOSE 8000
CMD ["gunicorn", "later.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
