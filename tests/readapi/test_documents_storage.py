"""Where PDFs and exports are kept: files by default, an S3 bucket when configured.

Settings are read once per process, so each configuration is loaded in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import json, django
django.setup()
from django.core.files.storage import storages
storage = storages["documents"]
print(json.dumps({"class": type(storage).__module__ + "." + type(storage).__name__,
                  "bucket": getattr(storage, "bucket_name", None),
                  "location": str(getattr(storage, "location", "")),
                  "overwrite": getattr(storage, "file_overwrite", None)}))
"""


def documents_storage(**env: str) -> dict[str, object]:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "nexus.settings",
                   "NEXUS_S3_BUCKET": "", **env}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=settings.BASE_DIR,
                          env=environment, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_files_under_the_var_dir_by_default(tmp_path: object) -> None:
    found = documents_storage(NEXUS_VAR_DIR=str(tmp_path))
    assert found["class"] == "django.core.files.storage.filesystem.FileSystemStorage"
    assert found["location"] == f"{tmp_path}/documents"


def test_an_s3_bucket_when_configured() -> None:
    found = documents_storage(NEXUS_S3_BUCKET="nexus-documents", NEXUS_S3_PREFIX="prod",
                              AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    assert found["class"] == "storages.backends.s3.S3Storage"
    assert (found["bucket"], found["location"], found["overwrite"]) == (
        "nexus-documents", "prod", False)
