"""python3 parallel.py N script.py args...: runs N copies of a training stage as one
data-parallel group (RANK / WORLD_SIZE / MASTER_* set for torch.distributed's gloo).
Debian's torch 1.13 `torch.distributed.run` fails on this Python, hence our own launcher.
If one copy fails, the others are stopped and the exit status is the failure's."""
import os, socket, subprocess, sys, time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    n, cmd = int(sys.argv[1]), sys.argv[2:]
    env = dict(os.environ, WORLD_SIZE=str(n), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
    procs = [subprocess.Popen([sys.executable, *cmd], env=dict(env, RANK=str(r))) for r in range(n)]
    try:
        while True:
            codes = [p.poll() for p in procs]
            failed = [c for c in codes if c not in (None, 0)]
            if failed:
                for p in procs:
                    if p.poll() is None:
                        p.terminate()
                sys.exit(failed[0])
            if all(c == 0 for c in codes):
                return
            time.sleep(1)
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        raise


if __name__ == "__main__":
    main()
