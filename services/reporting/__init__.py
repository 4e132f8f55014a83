"""From judgements back to verdicts: consensus labels kept current, completion of evaluations,
reports and comparisons, exports, trends and alerts, scorecards (ReportingService)."""
