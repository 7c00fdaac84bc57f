"""How many particles a run scores: a constant the command line can read without importing the
methods (and with them torch)."""

#: Particles a method draws for scoring (`Problem.num_eval_samples`) unless the run says
#: otherwise: the fewest that keep the standard error of MMD² from the particles alone below
#: 0.002 for HumanDiffusion on `paper_like` at every seed measured (benchmarks/eval_samples.py;
#: README, *Scoring*).
NUM_EVAL_SAMPLES = 3000
