"""The application: what runs the pipeline for a user, above the core (prtkg/), the loaders, the shapes
and the rules. The check pipeline (checking, parallel), loading into a store (ingest), the reports
(report_html, coverage_report), the command line (cli) and starting the HTTP service (serve).
Nothing below this package imports it (tests/test_import_cycles.py, the layer test)."""
