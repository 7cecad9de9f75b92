# The maritime image: the embedded pipeline, the Faust worker, the ingest and the live map.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY maritime ./maritime
COPY streams ./streams
COPY geofences ./geofences
RUN pip install --no-cache-dir . && useradd --create-home mda
USER mda
ENTRYPOINT ["maritime"]
