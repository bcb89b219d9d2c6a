"""A zygote for the kill-and-resume tests: imports torch and graphrnn once, then forks one child per
training run, so that each run starts in milliseconds and can be killed with SIGKILL at any moment.

Protocol (one JSON object per line on stdin, one answer per line on stdout):
``{"run": {"out": DIR, "epochs": E, "resume": bool}}`` -> the child's pid;
``{"wait": pid}`` -> ``{"pid": pid, "status": S}`` (S < 0: killed by signal -S);
``{"ping": 1}`` -> ``"ready"`` once the imports are done;
``{"cli": ARGV, "stderr": FILE}`` -> the pid of a child running ``graphrnn ARGV``;
end of input -> exit. The zygote itself never runs a torch operation, so forking it is safe.
"""
import json
import os
import signal
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
import torch_geometric.loader  # noqa: E402,F401  (imported here, not once per child)
from training_testing import make_dataset, make_model, mse_loss  # noqa: E402

from graphrnn.training import TrainConfig, Trainer  # noqa: E402


def train(job):
    torch.set_num_threads(1)
    model = make_model(dropout=0.3, hidden=256)  # ~200 KB of weights and Adam state: writes take a while
    config = TrainConfig(epochs=job["epochs"], batch_size=8, lr=1e-2, lr_schedule="cosine", grad_clip=1.0,
                         seed=3, device="cpu", progress=False, out=job["out"], resume=job["resume"])
    Trainer(model, mse_loss, make_dataset(64), config, eval_data=make_dataset(16, seed=1)).fit()


def run_cli(argv, stderr_path):
    """``graphrnn ARGV`` in this child, its stdout and stderr in ``stderr_path`` (stdout is the zygote's
    answer pipe); exits with the command's status."""
    from graphrnn import cli

    # a shell starts background jobs with SIGINT ignored, and Python then keeps it ignored: give the
    # child what a command typed at a terminal has, so that the test's Ctrl-C reaches it wherever pytest runs
    signal.signal(signal.SIGINT, signal.default_int_handler)
    torch.set_num_threads(1)
    stderr = open(stderr_path, "w")  # noqa: SIM115  (left open: the child ends with os._exit)
    os.dup2(stderr.fileno(), 2)
    os.dup2(stderr.fileno(), 1)
    sys.stderr = sys.stdout = stderr
    return cli.main(argv)


def main():
    for line in sys.stdin:
        request = json.loads(line)
        if "cli" in request:
            pid = os.fork()
            if pid == 0:
                status = 1
                try:
                    status = run_cli(request["cli"], request["stderr"])
                except BaseException:  # os._exit would swallow it: print it for the test's failure message
                    traceback.print_exc()
                finally:
                    sys.stderr.flush()
                    os._exit(status)
            print(pid, flush=True)
        elif "run" in request:
            pid = os.fork()
            if pid == 0:
                status = 0
                try:
                    train(request["run"])
                except BaseException:
                    traceback.print_exc()
                    status = 1
                os._exit(status)
            print(pid, flush=True)
        elif "ping" in request:
            print(json.dumps("ready"), flush=True)
        elif "wait" in request:
            _, status = os.waitpid(request["wait"], 0)
            code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            print(json.dumps({"pid": request["wait"], "status": code}), flush=True)


if __name__ == "__main__":
    main()
