import sys, time, subprocess, os, signal
sys.path.insert(0, "/work/main/build/pygen")
import grpc
from isula.restore.v1 import restore_pb2 as pb, restore_pb2_grpc as pbg
ch = grpc.insecure_channel("unix:/tmp/wd/s.sock")
pbg.RestoreStub(ch).ListRestored(pb.ListRestoredRequest(), timeout=5)
pid = int(subprocess.check_output(["pgrep", "-f", "socket /tmp/wd/s.sock"]).split()[0])
t=time.time(); os.kill(pid, signal.SIGTERM)
while True:
    try: os.kill(pid, 0); time.sleep(0.01)
    except ProcessLookupError: break
    if time.time()-t > 20: break
print("exit took", time.time()-t)
