-- Rows parsed client-side, streamed in PostgreSQL's COPY text format.
COPY {table} ({columns}) FROM STDIN
