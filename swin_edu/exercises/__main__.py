"""``python -m swin_edu.exercises``: every exercise, what its check tests, and how long it takes.

For teachers: the notebook, the cases and the catalogued mistakes of each check; and the time one
check of the reference answer takes on this machine (each should stay well under 2 s).
"""
import dataclasses
import time

from . import EXERCISES, Exercise


def main() -> None:
    total = 0.0
    for exercise in EXERCISES.values():
        if isinstance(exercise, Exercise):  # the reference may call what a learner must not
            checked, answer = dataclasses.replace(exercise, forbidden=None), exercise.reference
        else:
            checked, answer = exercise, exercise.answer
        start = time.perf_counter()
        result = checked.check(answer)
        seconds = time.perf_counter() - start
        total += seconds
        cases = len(exercise.cases()) if isinstance(exercise, Exercise) else 1
        print(f"hw{exercise.notebook[:2]}  {exercise.name:<28} {cases} case(s)  {seconds * 1000:7.1f} ms  "
              f"{'ok' if result.passed else 'REFERENCE FAILS'}")
        print(f"      {exercise.summary}")
        print(f"      mistakes: {', '.join(m.name for m in exercise.mistakes) or '-'}")
    print(f"{len(EXERCISES)} exercises, {sum(len(e.mistakes) for e in EXERCISES.values())} catalogued mistakes, "
          f"all reference checks in {total:.2f} s")


if __name__ == "__main__":
    main()
