"""Results a municipality can use: exports, aggregation, charts and reports.

- `export`: the pseudonymous CSV/XLSX export of answers, streamed.
- `aggregate`: counts per neighbourhood and flow, with groups of fewer than 5 suppressed.
- `charts`: PNG bar charts readable on a phone.
- `report`: a folder with report.md, charts and CSV tables; and `/results` for chat.
- `labels`, `periods`: readable names for stored codes, and date ranges.
"""
