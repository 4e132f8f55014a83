"""``qrelay export EVALUATION --format trec|jsonl|csv``: an evaluation's labels, judgements or
result lists as a file (streamed from ExportEvaluation, written as it arrives)."""
from __future__ import annotations

import argparse
import sys

from services._proto.qrelay.v1 import reporting_pb2 as rp, reporting_pb2_grpc
from services.cli import CommandError
from services.cli.client import add_connection_flags, channel, metadata
from services.cli.output import add_json_flag, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="labels, judgements or runs as TREC, JSONL or CSV files",
                       description="Export an evaluation: the consensus labels (TREC qrels of the complete queries, "
                                   "or every item as JSONL/CSV), every human judgement (JSONL/CSV), or the rankers' "
                                   "result lists (a TREC run per ranker, or JSONL/CSV). `qrelay trec-eval -m "
                                   "ndcg_cut.10 QRELS RUN` on the exported qrels and a run prints the report's "
                                   "unweighted mean. Example: qrelay export EVAL --format trec --content runs "
                                   "--ranker treatment -o treatment.run")
    add_connection_flags(p)
    p.add_argument("evaluation", help="evaluations/ID or ID")
    p.add_argument("--format", required=True, choices=("trec", "jsonl", "csv"))
    p.add_argument("--content", default="consensus", choices=("consensus", "judgements", "runs"),
                   help="what to export (default consensus)")
    p.add_argument("--ranker", default="", help="runs: this ranker only (required for a TREC run)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    add_json_flag(p, "what was written (with -o; without it the file itself goes to standard output)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    name = args.evaluation if args.evaluation.startswith("evaluations/") else f"evaluations/{args.evaluation}"
    request = rp.ExportEvaluationRequest(name=name, content=rp.ExportContent.Value(args.content.upper()),
                                         format=rp.ExportFormat.Value(args.format.upper()), ranker=args.ranker)
    try:
        out = open(args.output, "wb") if args.output else sys.stdout.buffer
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror}") from None
    written, content_type, file_name = 0, "", ""
    try:
        with channel(args) as ch:
            # no deadline on the stream as a whole: a large export takes as long as it takes
            for chunk in reporting_pb2_grpc.ReportingServiceStub(ch).ExportEvaluation(request, metadata=metadata(args)):
                if chunk.content_type:
                    content_type, file_name = chunk.content_type, chunk.file_name
                out.write(chunk.data)
                written += len(chunk.data)
    finally:
        if args.output:
            out.close()
        else:
            out.flush()
    if args.output:
        if args.json:
            print_json({"file": args.output, "bytes": written, "content_type": content_type,
                        "suggested_name": file_name})
        else:
            print(f"wrote {written:,} bytes ({content_type}) to {args.output}", file=sys.stderr)
    return 0
