"""Builds the binary files of variant cpu, deterministically (fixed seeds, one thread):
  variants/cpu/agent/data/train.bin                 training tokens of the synthetic language (uint16)
  variants/cpu/agent/solution/basic_model.pt        the starting model trained by agent/solution/train.py
  variants/cpu/reference/solution/reference_model.pt  the reference MixerModel (reference/solution/train_reference.py)
Run: /usr/bin/python3 tasks/ai_rd_restricted_mlm/build_cpu_assets.py   (a few minutes on 2 cores)
The files are committed; the scoring constants are measured on the committed files."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CPU = os.path.join(HERE, "variants", "cpu")
sys.path.insert(0, os.path.join(CPU, "scoring"))
import textgen  # noqa: E402

TRAIN_TOKENS = 200_000
TRAIN_SEED = 1


def main():
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    agent = os.path.join(CPU, "agent")
    os.makedirs(os.path.join(agent, "data"), exist_ok=True)
    textgen.sample(textgen.chain(), TRAIN_TOKENS, TRAIN_SEED).tofile(os.path.join(agent, "data", "train.bin"))
    subprocess.run([sys.executable, "train.py", "--steps", "1500"], cwd=os.path.join(agent, "solution"), env=env, check=True)

    with tempfile.TemporaryDirectory() as home:
        shutil.copytree(agent, home, dirs_exist_ok=True)
        for name in ("model.py", "train_reference.py"):
            shutil.copy(os.path.join(CPU, "reference", "solution", name), os.path.join(home, "solution", name))
        subprocess.run([sys.executable, "train_reference.py", "--steps", "1500", "--seed", "1"],
                       cwd=os.path.join(home, "solution"), env=env, check=True)
        shutil.copy(os.path.join(home, "solution", "reference_model.pt"),
                    os.path.join(CPU, "reference", "solution", "reference_model.pt"))


if __name__ == "__main__":
    main()
