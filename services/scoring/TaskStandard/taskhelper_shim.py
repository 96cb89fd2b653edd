"""RE-Bench platform's bridge to a METR Task Standard family (after Vivaria's taskhelper.py, rebench-spec 4.3).

Run by the scoring service as `python3 -I - FAMILY_DIR FAMILY TASK OPERATION` with this file on stdin, in the
attempt's environment, as the scorer. Prints the operation's result as JSON between two separator lines, or the
task-not-found marker. Everything the family (and any code it runs) prints goes to stderr, so nothing it prints
can pose as the result; only this shim writes to the real stdout.

Operations: setup, start, intermediate_score, aggregate_scores (score log as JSON in REBENCH_SCORE_LOG_JSON),
score (submission in REBENCH_SUBMISSION), teardown. A family with score() but no intermediate_score() is end-only:
intermediate_score answers that scoring happens at the end, and aggregate_scores runs score(submission) instead.
"""
import importlib
import json
import math
import os
import sys

SEPARATOR = "SEP_MUfKWkpuVDn9E"
TASK_NOT_FOUND = "taskNotFound_FPW3SDMlvf9Kf"
OPERATIONS = ("setup", "start", "intermediate_score", "aggregate_scores", "score", "teardown")


def finite_or_none(value):
    """JSON has no NaN: NaN and infinities become null, in nested messages too (as TPS's log_score does)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def emit(result_fd, text):
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(result_fd, text.encode())
    # Threads or atexit hooks the family left behind could otherwise print after the result.
    os._exit(0)


def run(family_dir, family_name, task_name, operation):
    sys.path.insert(0, family_dir)
    os.chdir(family_dir)
    family = importlib.import_module(family_name).TaskFamily
    tasks = family.get_tasks()
    if task_name not in tasks:
        return None, True
    task = tasks[task_name]

    required = list(getattr(family, "required_environment_variables", []) or [])
    missing = [name for name in required if name not in os.environ]
    if missing and operation in ("start", "intermediate_score", "aggregate_scores", "score"):
        raise SystemExit(f"required environment variables are not set: {', '.join(missing)}")

    if operation == "setup":
        return {
            "permissions": family.get_permissions(task) if hasattr(family, "get_permissions") else [],
            "instructions": family.get_instructions(task),
            "requiredEnvironmentVariables": required,
            "auxVMSpec": None,
            "intermediateScoring": hasattr(family, "intermediate_score"),
        }, False
    if operation == "start":
        if hasattr(family, "start"):
            family.start(task)
        return {"started": hasattr(family, "start")}, False
    if operation == "intermediate_score":
        if not hasattr(family, "intermediate_score") and hasattr(family, "score"):
            # An end-only family: score(submission) runs once, on submit; nothing to score before then.
            return {"score": None, "scored_at_end": True,
                    "message": {"info": "this task is scored at the end: submit your answer to be scored; "
                                        "there are no intermediate scores"},
                    "details": {}}, False
        if not hasattr(family, "intermediate_score"):
            return {"score": None, "message": {"error": "the task family has no intermediate_score"}, "details": {}}, False
        result = family.intermediate_score(task)
        if result is None:
            return {"score": None, "message": {"error": "the task family returned no score"}, "details": {}}, False
        return {"score": finite_or_none(result.get("score")), "message": finite_or_none(result.get("message") or {}),
                "details": finite_or_none(result.get("details") or {})}, False
    if operation == "aggregate_scores":
        if not hasattr(family, "intermediate_score") and hasattr(family, "score"):
            # End-only: the final score is score(submission), run here once; None means it needs manual scoring.
            oversize = os.environ.get("REBENCH_SUBMISSION_OVERSIZE")
            if oversize:
                print(f"score() not run: the submission is {oversize}", file=sys.stderr)
                return {"defined": True, "score": None, "nan": True, "end_only": True, "problem": oversize}, False
            score = family.score(task, os.environ.get("REBENCH_SUBMISSION", ""))
            nan = score is None or (isinstance(score, float) and math.isnan(score))
            return {"defined": True, "score": finite_or_none(score), "nan": nan, "end_only": True,
                    "manual": score is None}, False
        log = json.loads(os.environ.get("REBENCH_SCORE_LOG_JSON", "[]"))
        if not hasattr(family, "aggregate_scores"):
            return {"defined": False, "score": None, "nan": False}, False
        score = family.aggregate_scores(task, log)
        nan = isinstance(score, float) and math.isnan(score)
        return {"defined": score is not None, "score": finite_or_none(score), "nan": nan}, False
    if operation == "score":
        if not hasattr(family, "score"):
            return {"defined": False, "score": None}, False
        score = family.score(task, os.environ.get("REBENCH_SUBMISSION", ""))
        return {"defined": score is not None, "score": finite_or_none(score)}, False
    if operation == "teardown":
        if hasattr(family, "teardown"):
            family.teardown(task)
        return {}, False
    raise SystemExit(f"unknown operation {operation!r}; one of {', '.join(OPERATIONS)}")


def main():
    if len(sys.argv) != 5:
        raise SystemExit("usage: python3 -I - FAMILY_DIR FAMILY TASK OPERATION")
    result_fd = os.dup(1)
    os.dup2(2, 1)
    result, not_found = run(*sys.argv[1:5])
    if not_found:
        emit(result_fd, TASK_NOT_FOUND + "\n")
    emit(result_fd, f"{SEPARATOR}\n{json.dumps(result, allow_nan=False, default=str)}\n{SEPARATOR}\n")


if __name__ == "__main__":
    main()
