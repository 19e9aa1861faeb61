"""Results a municipality can use: aggregation with small groups protected, charts,
reports and exports.

- `aggregate`: the entry point: counts per neighbourhood and flow, protected tables.
- `counting`, `tables`, `invitations`, `compare`: its sections (people per flow and
  question, the tables built from them, invitations per activity, two periods).
- `protection`: which cells are shown (suppression with an audit), `model` the types.
- `charts`: PNG bar charts readable on a phone.
- `report`: a folder with report.md, charts and CSV tables; and `/results` for chat.
- `export`: the pseudonymous CSV/XLSX export of answers, streamed.
- `periods`: date ranges.
"""
