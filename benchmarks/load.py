"""The load generator of ``benchmarks/run.py``: concurrent HTTP clients, in a process of their own so
that they share no interpreter lock with the in-process database or the web process.

``load.py PORT --clients N --seconds S URL...``: N threads, each with one keep-alive connection,
send the URLs round robin (each thread starting at another one) for S seconds, then finish the
request in flight. ``--burst`` instead sends each thread exactly one request for the first URL, all
released at once. Prints one JSON object: the latencies in ms, the status counts and the aggregates
the web process reported (``X-Bench-Aggregates``).
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import threading
import time

from livechat_analytics import demo

HEADERS = {"X-User-Id": demo.MANAGER_ID, "X-Auth-Token": demo.MANAGER_TOKEN}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--burst", action="store_true")
    arguments = parser.parse_args()
    latencies: list[float] = []
    statuses: collections.Counter[str] = collections.Counter()
    aggregates = [0]
    lock = threading.Lock()
    start = threading.Barrier(arguments.clients)
    until = [0.0]

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", arguments.port, timeout=120)
        start.wait()
        sent = 0
        while True:
            url = arguments.urls[(number + sent) % len(arguments.urls)]
            began = time.perf_counter()
            try:
                connection.request("GET", url, headers=HEADERS)
                response = connection.getresponse()
                response.read()
                status, counted = str(response.status), int(response.getheader("X-Bench-Aggregates", "0"))
            except (OSError, http.client.HTTPException) as error:
                status, counted = type(error).__name__, 0
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", arguments.port, timeout=120)
            elapsed = (time.perf_counter() - began) * 1000
            sent += 1
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1
                aggregates[0] += counted
            if arguments.burst or time.perf_counter() >= until[0]:
                break
        connection.close()

    threads = [threading.Thread(target=client, args=(number,)) for number in range(arguments.clients)]
    began = time.perf_counter()
    until[0] = began + arguments.seconds
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    print(
        json.dumps(
            {"latencies": latencies, "statuses": dict(statuses), "aggregates": aggregates[0], "seconds": wall}
        )
    )


if __name__ == "__main__":
    main()
