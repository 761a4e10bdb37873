"""`python3 -m analysis report|compare|phase ...`: the command line. Turns AnalysisError (bad, damaged
or missing file) into a one-line message and exit status 2; never a traceback for a bad file."""
import argparse
import sys

from .load import AnalysisError


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python3 -m analysis",
        description="Tables and plots from attnsweep results files (HDF5).")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    r = sub.add_parser("report", help="runs.csv, summary.csv, plots and report.md for one file",
                       description="Write runs.csv, summary.csv, PNG+SVG plots and report.md.")
    r.add_argument("file", help="results.h5 written by `attnsweep run`")
    r.add_argument("--out", default="report", help="output directory (default: report/)")
    r.add_argument("--band", choices=("std", "minmax"), default="std",
                   help="seed band around mean curves: ±1 std (default) or min–max")
    r.add_argument("--formats", default="png,svg", help="plot formats (default: png,svg)")
    c = sub.add_parser("compare", help="two sweeps side by side (e.g. two classifiers)",
                       description="Match the grid cells of two sweeps, tabulate both summaries "
                       "and their differences (B − A), overlay their curves.")
    c.add_argument("a", help="first results file (A)")
    c.add_argument("b", help="second results file (B)")
    c.add_argument("--out", default="compare", help="output directory (default: compare/)")
    c.add_argument("--formats", default="png,svg", help="plot formats (default: png,svg)")
    p = sub.add_parser("phase", help="a phase diagram from scattered points (refined sweeps)",
                       description="Shade the mean of a metric over its seeds at every (x, y) "
                       "point of the file (nearest point), draw the points and the boundary at "
                       "--level, and count the runs a product grid at the finest spacing would "
                       "need. For a file `attnsweep refine` grew, every option but --out defaults "
                       "to what refine was given.")
    p.add_argument("file", help="results.h5 written by `attnsweep run`")
    p.add_argument("--x", help="swept key on the x axis")
    p.add_argument("--y", help="swept key on the y axis (none: the metric along x)")
    p.add_argument("--metric", help="a numeric /runs column (final_test_acc, steps_to_converge, "
                   "...), a trace metric (its last value) or converged")
    p.add_argument("--level", type=float, help="draw the boundary where the metric crosses it")
    p.add_argument("--x-scale", choices=("auto", "linear", "log"), default=None,
                   help="auto (log when x spans two decades), linear or log")
    p.add_argument("--y-scale", choices=("auto", "linear", "log"), default=None)
    p.add_argument("--out", default="phase", help="output directory (default: phase/)")
    p.add_argument("--formats", default="png,svg", help="plot formats (default: png,svg)")
    args = ap.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    try:
        if args.cmd == "report":
            from .report import write_report
            res = write_report(args.file, args.out, args.band, formats)
            c = res["counts"]
            print("analysis: %s: %d runs (%s) → %s/report.md, %d plots%s"
                  % (args.file, res["sweep"].n_runs,
                     ", ".join("%d %s" % (v, k) for k, v in c.items() if v),
                     args.out.rstrip("/"), len(res["plots"]),
                     ("; %d not drawn (see report.md)" % len(res["notes"])) if res["notes"]
                     else ""))
        elif args.cmd == "phase":
            from .phase import write_phase
            res = write_phase(args.file, args.out, args.x, args.y, args.metric, args.level,
                              args.x_scale, args.y_scale, formats)
            print("analysis: %s: %s → %s/%s" % (args.file, res["text"], args.out.rstrip("/"),
                                                 res["files"][0] if res["files"] else ""))
            for c in res["crossings"]:
                print("analysis: " + c)
        else:
            from .compare import write_compare
            res = write_compare(args.a, args.b, args.out, formats)
            print(res["text"])
            print("analysis: %d matching cells → %s/compare.md"
                  % (res["n_matched"], args.out.rstrip("/")))
    except AnalysisError as e:
        print("analysis: error: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:  # output directory not writable, disk full, ...
        print("analysis: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
