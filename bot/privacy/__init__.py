"""A person's rights and the data rules: pseudonyms, /mydata, /forget, retention.

- `pseudonyms`: the stable keyed-hash name a person has in exports and reports.
- `redact`: phone numbers, e-mail addresses and handles taken out of free text.
- `mydata`: everything stored about a person, as a message and a JSON file.
- `erasure`: deleting a person from every table, and from SQLite's file and WAL.
- `retention`: answers older than `BUURTBOT_RETENTION_DAYS` lose their link to the person.
"""
