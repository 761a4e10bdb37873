"""`python3 -m analysis report|compare ...`: the command line. Turns AnalysisError (bad, damaged
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
