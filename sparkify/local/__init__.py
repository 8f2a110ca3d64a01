"""The local profile's stand-ins: an S3 emulator on loopback, an embedded PostgreSQL, a sample."""
