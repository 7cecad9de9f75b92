# The maritime image: the embedded pipeline, the Faust worker, the ingest and the live map.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY maritime ./maritime
COPY streams ./streams
COPY geofences ./geofences
# the compose volumes' mount points, owned by the service user (a new named volume copies them)
RUN pip install --no-cache-dir . && useradd --create-home mda \
    && mkdir -p /sim /state /alerts /feeds && chown mda /sim /state /alerts
USER mda
ENTRYPOINT ["maritime"]
