# heritage-app: the portal (python -m web) and the OCR workers (python -m workers), one image for both.
# Python 3.11 and tesseract 5.3 with the vie, eng and fra models from Debian; the project and its
# dependencies from the wheelhouse built on the host (deploy/images.sh), installed with --no-index.
# The 3D stack (open3d, pycolmap) is left out: monuments' 3D builds need the full venv.
FROM localhost/heritage-base:bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv tesseract-ocr tesseract-ocr-vie \
      tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-osd unicode-data curl \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/heritage \
 && useradd --system --uid 990 --home-dir /data --shell /usr/sbin/nologin heritage
COPY wheelhouse/deps /wheels/deps
COPY wheelhouse/requirements.txt wheelhouse/constraints.txt /wheels/
RUN /opt/heritage/bin/pip install --no-cache-dir --no-index --find-links /wheels/deps \
      -r /wheels/requirements.txt -c /wheels/constraints.txt \
 && rm -rf /wheels/deps
COPY wheelhouse/project /wheels/project
RUN /opt/heritage/bin/pip install --no-cache-dir --no-index --no-deps /wheels/project/*.whl \
 && rm -rf /wheels
# web/static with its vendor/ folder (fetched by scripts/frontend.sh, not in git, so not in the wheel)
COPY static /opt/heritage/lib/python3.11/site-packages/web/static
# the larger Vietnamese and French models (scripts/models.sh), beside links to Debian's other models
COPY tessdata_best /opt/heritage/lib/python3.11/site-packages/digitize/models/tessdata_best
RUN cd /opt/heritage/lib/python3.11/site-packages/digitize/models/tessdata_best \
 && for f in /usr/share/tesseract-ocr/5/tessdata/*; do [ -e "$(basename "$f")" ] || ln -s "$f" .; done
COPY files/app-entrypoint.sh /usr/local/bin/heritage-entrypoint
ENV PATH=/opt/heritage/bin:$PATH HERITAGE_DATA_DIR=/data OMP_THREAD_LIMIT=1 PYTHONUNBUFFERED=1 \
    TESSDATA_PREFIX=/usr/share/tesseract-ocr/5/tessdata
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/heritage-entrypoint"]
CMD ["web"]
