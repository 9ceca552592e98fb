"""Links to published files that open from the Prefect UI (the run's artifacts, issue 21):
``SQIS_PUBLIC_BASE_URL`` + the key, a presigned https link into an ``s3://`` out root, or
a ``file://`` link to a local one."""

from __future__ import annotations

import logging

from sqis.settings import get_settings

log = logging.getLogger(__name__)


# how long a presigned link in a run's artifact stays valid (S3's longest for SigV4)
PRESIGNED_SECONDS = 7 * 24 * 3600


def out_link(out_root: str, key: str) -> str:
    """A link to a published file that opens from the Prefect UI (issue 21).

    With ``SQIS_PUBLIC_BASE_URL`` (the https address the out roots are served at, e.g.
    behind the staff's authenticating proxy): that base + the key. Otherwise an ``s3://``
    out root gets a presigned https link (valid ``PRESIGNED_SECONDS``), and a local one a
    ``file://`` link (it opens on the machine that ran the flow).
    """
    from urllib.parse import quote

    base = get_settings().public_base_url
    if base:
        return f"{base.rstrip('/')}/{quote(key)}"
    if out_root.startswith("s3://"):
        import boto3
        from botocore.config import Config

        bucket, _, prefix = out_root.removeprefix("s3://").partition("/")
        full = f"{prefix.strip('/')}/{key}" if prefix.strip("/") else key
        s = get_settings()
        try:
            signer = boto3.client(
                "s3",
                endpoint_url=s.s3_endpoint_url,
                region_name=s.s3_region,
                config=Config(signature_version="s3v4"),
            )
            return str(
                signer.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": bucket, "Key": full},
                    ExpiresIn=PRESIGNED_SECONDS,
                )
            )
        except Exception:  # no credentials here: the location, at least
            log.warning("could not presign a link to s3://%s/%s", bucket, full)
            return f"s3://{bucket}/{full}"
    from pathlib import Path

    return (Path(out_root).resolve() / key).as_uri()
