# NET-CDS: the CDS Hooks service under gunicorn, as a non-root user.
#   docker build -t net-cds . && docker run -p 8080:8080 -e NET_CDS_ENV=production ... net-cds
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NET_CDS_DATA_DIR=/app \
    NET_CDS_ENV=production

RUN useradd --create-home --uid 10001 netcds
WORKDIR /app

# The package is installed once, into site-packages, from a build folder that is then removed: /app holds
# only the data (mappings, cards, samples; NET_CDS_DATA_DIR), never a second copy of the code.
COPY pyproject.toml README.md /tmp/net-cds/
COPY cds_service /tmp/net-cds/cds_service
RUN pip install --no-cache-dir "/tmp/net-cds[postgres]" && rm -rf /tmp/net-cds /root/.cache

COPY mappings ./mappings
COPY cards ./cards
COPY samples ./samples
RUN mkdir -p /app/var && chown netcds:netcds /app/var

USER netcds
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"

# gevent workers with header and request deadlines, worker recycling, JSON logs on stderr: the same settings
# as `net-cds serve` (cds_service/gunicorn_conf.py; NET_CDS_WORKERS, NET_CDS_HEADER_TIMEOUT, ... change them).
ENV NET_CDS_BIND=0.0.0.0:8080
CMD ["gunicorn", "-c", "python:cds_service.gunicorn_conf", "cds_service.wsgi:app"]
