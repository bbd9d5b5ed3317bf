#!/usr/bin/env python3
"""The official segmind SDK's side of the overhead benchmark: N v1 `run_sync`
calls and N v2 `submit_async().wait()` jobs against the mock, and the CPU
seconds each took in this process. Prints JSON."""
import argparse
import json
import time

from segmind import SegmindClient


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    client = SegmindClient(api_key=args.key, base_url=f"{args.api}/v1")
    start = time.process_time()
    for _ in range(args.n):
        client.run_sync("ideogram-txt-2-img", prompt="overhead").content
    middle = time.process_time()
    for _ in range(args.n):
        client.submit_async("ideogram-txt-2-img", prompt="overhead").wait(interval=0.001)
    end = time.process_time()
    print(json.dumps({"n": args.n, "sync_cpu_s": middle - start, "queue_cpu_s": end - middle}))


if __name__ == "__main__":
    main()
