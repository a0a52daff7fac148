# A Dataflow worker image with codepref installed (no trainer, no local LLM):
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPO/codepref:0.1.0 .
#   docker push REGION-docker.pkg.dev/PROJECT/REPO/codepref:0.1.0
# then run `codepref build` with --sdk_container_image=that image (see README.md).
# The Beam version must match the one that launches the job.
ARG BEAM_VERSION=2.77.0
FROM apache/beam_python3.11_sdk:${BEAM_VERSION}
WORKDIR /opt/codepref
COPY pyproject.toml setup.py README.md ./
COPY pipelines pipelines
COPY transforms transforms
COPY schemas schemas
COPY data_cards data_cards
COPY trainer trainer
RUN pip install --no-cache-dir ".[gcp]"
