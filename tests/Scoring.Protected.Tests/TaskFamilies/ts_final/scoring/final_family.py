"""An end-only METR Task Standard (0.3.0) family for the platform's bridge tests: name a colour.

Written to the standard's interface only: get_tasks, get_instructions, get_permissions, start and score(t, submission);
no intermediate_score, so the family is scored once, on the submission. score() leaves a line in ~/score_calls.txt
per call so the tests can count how often it ran.
"""
import os

HOME = os.path.expanduser("~")


class TaskFamily:
    standard_version = "0.3.0"

    @staticmethod
    def get_tasks() -> dict:
        return {"main": {"colour": "blue"}, "manual": {"colour": None}}

    @staticmethod
    def get_instructions(t: dict) -> str:
        return "Submit the colour named in hint.txt in your home."

    @staticmethod
    def get_permissions(t: dict) -> list:
        return []

    @staticmethod
    def start(t: dict) -> None:
        with open(os.path.join(HOME, "hint.txt"), "w") as f:
            f.write(f"The colour is {t['colour']}.\n")

    @staticmethod
    def score(t: dict, submission: str) -> float | None:
        with open(os.path.join(HOME, "score_calls.txt"), "a") as f:
            f.write(repr(submission) + "\n")
        if t["colour"] is None:
            return None  # the standard's "needs manual scoring"
        return 1.0 if submission.strip().lower() == t["colour"] else 0.0
