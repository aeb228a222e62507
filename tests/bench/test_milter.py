"""bench/milter's run order and ratios: every milter run between two Postfix-alone runs."""

from bench.milter import Run, bracketed, sequence


def test_every_milter_run_sits_between_two_postfix_runs_and_the_order_turns_each_round():
    order = sequence(["a", "b"], 2)
    assert order == ["postfix", "a", "postfix", "b", "postfix", "b", "postfix", "a", "postfix"]


def test_a_ratio_is_to_the_mean_of_the_postfix_runs_around_it():
    def timed(rate: float) -> Run:
        return Run(messages=int(rate), elapsed=1.0, steal=0.0)

    runs = [("postfix", timed(400)), ("a", timed(450)), ("postfix", timed(600)), ("b", timed(300)),
            ("postfix", timed(600))]
    assert bracketed(runs, "a") == [450 / 500]
    assert bracketed(runs, "b") == [0.5]
