"""Great Expectations quality gates: the suites in expectations/, run as checkpoints.

The reviewable source is one YAML file per table (`expectations/<table>.yml`) and one per
checkpoint (`expectations/checkpoints/<name>.yml`), read by `suites`. A `gate.QualityGate`
turns them into GX 1.x objects in an ephemeral Data Context and runs them on a
`targets.QualityTarget`; `report` turns GX's results into what the run shows.
"""
