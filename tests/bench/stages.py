#!/usr/bin/python3
"""Where a restore's time goes, stage by stage, from the timestamps of Watch PROGRESS events.

    /usr/bin/python3 tests/bench/stages.py SOCKET [RUNS]

Runs RestoreAll (dry run) RUNS times (default 3) against a running restored while a Watch
stream records events, and prints when each stage finished, in ms after RESTORE_STARTED.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import grpc, pb, pb_grpc  # noqa: E402


def one_run(stub):
    evs = []
    w = stub.Watch(pb.WatchRequest())

    def read():
        for e in w:
            evs.append(e)
            if e.kind == pb.WatchEvent.KIND_RESTORE_FINISHED:
                break

    t = threading.Thread(target=read)
    t.start()
    time.sleep(0.3)  # the stream is registered before the restore starts
    r = stub.RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=300)
    t.join()
    w.cancel()
    t0 = next(e.time_us for e in evs if e.kind == pb.WatchEvent.KIND_RESTORE_STARTED)
    ends = {}
    for e in evs:
        if e.kind == pb.WatchEvent.KIND_PROGRESS and e.progress.done == e.progress.total:
            ends.setdefault(pb.Stage.Name(e.progress.stage).replace("STAGE_", "").lower(),
                            (e.time_us - t0) // 1000)
    fin = next(e.time_us for e in evs if e.kind == pb.WatchEvent.KIND_RESTORE_FINISHED)
    ends["finished"] = (fin - t0) // 1000
    ends["server_duration"] = r.summary.duration_us // 1000
    return ends


def main():
    sock = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ch = grpc.insecure_channel("unix:" + sock, options=[("grpc.max_receive_message_length", 1 << 28)])
    stub = pb_grpc.RestoreStub(ch)
    stub.RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=300)  # warm-up
    for _ in range(runs):
        print("stage ends (ms after start):", one_run(stub))


if __name__ == "__main__":
    main()
