# The maritime image: the embedded pipeline, the Faust worker, the ingest and the live map.
#
# Stage 1 builds the compiled wheel (mypyc needs gcc and the Python headers, which python:3.11 has); stage 2
# installs that wheel on the slim image, with no compiler. A build that cannot compile still gives a working
# pure-Python wheel (setup.py falls back and says so).
FROM python:3.11 AS builder
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY maritime ./maritime
COPY streams ./streams
COPY geofences ./geofences
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
COPY --from=builder /wheels /wheels
# the compose volumes' mount points, owned by the service user (a new named volume copies them)
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels && useradd --create-home mda \
    && mkdir -p /sim /state /alerts /feeds && chown mda /sim /state /alerts
USER mda
ENTRYPOINT ["maritime"]
