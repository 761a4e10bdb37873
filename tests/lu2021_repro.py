#!/usr/bin/python3
"""lu2021_repro — runs `attnsweep train SPEC --run 0` on the authors' synthetic configuration
(examples/lu2021*.ini) and checks its trace against what the authors' code shows on it
(docs/models.md, "What we reproduce"): test accuracy >= 0.99, the step where the loss first drops
below 0.01 within a band around the paper's, topic attention rising monotonically to the paper's
final value (+-0.06), and the SEN identity within 1 % (relative) once the topic score passes 0.5.

usage: lu2021_repro.py ATTNSWEEP SPEC {fixed|linear|mlp} [float32|float64]
(the precision, model.precision, defaults to the spec's)
"""
import csv
import io
import subprocess
import sys

# classifier: (paper's first step with loss < 0.01, paper's final attention on the topic word)
PAPER = {"fixed": (1807, 0.73), "linear": (2478, 0.62), "mlp": (3994, 0.36)}


def main():
    binary, spec, cls = sys.argv[1:4]
    prec = sys.argv[4:5]
    sets = ["--set", "model.precision=" + prec[0]] if prec else []
    out = subprocess.run([binary, "train", spec, "--run", "0"] + sets, check=True,
                         capture_output=True, text=True)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    col = lambda name: [float(r[name]) for r in rows]
    step, loss, att = col("step"), col("train_loss"), col("topic_attention")
    score, res = col("topic_score"), col("sen_residual")
    fails = []
    conv = next((s for s, l in zip(step, loss) if l < 0.01), None)
    want_conv, want_att = PAPER[cls]
    if conv is None or not 0.7 * want_conv <= conv <= 1.3 * want_conv:
        fails.append(f"loss < 0.01 first at step {conv}, paper {want_conv} (+-30 %)")
    if col("test_acc")[-1] < 0.99:
        fails.append(f"final test accuracy {col('test_acc')[-1]}")
    drops = [s for s, a, b in zip(step[1:], att, att[1:]) if b < a]
    if drops:
        fails.append(f"topic attention fell at steps {drops[:5]}")
    if abs(att[-1] - want_att) > 0.06:
        fails.append(f"final topic attention {att[-1]:.3f}, paper {want_att}")
    worst = max((r for s, r in zip(score, res) if s > 0.5), default=None)
    if worst is None or worst > 0.01:
        fails.append(f"SEN residual once the score passes 0.5: {worst}")
    print(f"{cls}{' ' + prec[0] if prec else ''}: loss<0.01 at {conv} (paper {want_conv}), final attention {att[-1]:.3f} "
          f"(paper {want_att}), score {score[-1]:.2f}, max SEN residual {worst}, "
          f"test acc {col('test_acc')[-1]}")
    for f in fails:
        print("FAIL:", f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
