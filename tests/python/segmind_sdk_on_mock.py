#!/usr/bin/env python3
"""The official `segmind` Python SDK (1.3+), pointed at the mock, must work
as it does against Segmind: a v1 `run_sync` and a v2 `submit_async().wait()`
for Ideogram slugs, and FAILED surfacing as `InferenceFailed`."""
import sys

import httpx
import segmind
from segmind import SegmindClient
from segmind.v2 import InferenceFailed

from mock_process import Mock, Results


def main():
    results = Results()
    print(f"segmind SDK {segmind.__version__}")
    with Mock("--queued-ms", "100", "--processing-ms", "300") as mock:
        client = SegmindClient(api_key=mock.key, base_url=f"{mock.api}/v1")

        response = client.run_sync(
            "ideogram-txt-2-img",
            prompt="a lighthouse at dawn",
            resolution="RESOLUTION_1280_768",
            seed=4242,
            style_type="DESIGN",
        )
        results.check("run_sync answers 200", response.status_code == 200)
        results.check("run_sync answers a JPEG", response.content[:3] == b"\xff\xd8\xff",
                      response.headers.get("content-type"))
        results.check("run_sync reports credits", "x-remaining-credits" in response.headers)

        job = client.submit_async("ideogram-2a-txt-2-img", prompt="a queued lighthouse", seed=777)
        results.check("submit_async returns a request id", bool(job.request_id))
        body = job.wait(timeout=30, interval=0.2)
        results.check("wait ends COMPLETED", body.get("status") == "COMPLETED", body)
        output = body.get("output", "")
        image = httpx.get(output)
        results.check("the output URL serves the image", image.status_code == 200
                      and image.content[:3] == b"\xff\xd8\xff", output)

        failing = client.submit_async("ideogram-2a-txt-2-img", prompt="mock:fail this")
        try:
            failing.wait(timeout=30, interval=0.2)
            results.check("FAILED raises InferenceFailed", False, "no exception")
        except InferenceFailed as err:
            results.check("FAILED raises InferenceFailed", "safety" in (err.detail or ""), err.detail)
    return results.finish()


if __name__ == "__main__":
    sys.exit(main())
