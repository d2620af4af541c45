FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
WORKDIR /app
# torch first, CPU build: an unpinned torch pulls a multi-GB CUDA build
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY src ./src
COPY flows ./flows
COPY detectors ./detectors
RUN pip install --no-cache-dir .
COPY config ./config
COPY prefect.yaml ./
VOLUME ["/app/data"]
ENTRYPOINT ["newswatch"]
CMD ["serve"]
