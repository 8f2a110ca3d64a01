"""Provision and teardown of the AWS profile: IAM role, security group, Redshift cluster.

Every step is idempotent: it looks before it acts, changes only what differs, and returns an
`Outcome` that says which it did ("created", "exists, reused", "already gone"). Steps take the
settings and the boto3 clients they call; Prefect tasks (tasks/provisioning.py) wrap them.
"""

# On everything provision creates, so that a stray resource says where it came from.
TAGS = [{"Key": "project", "Value": "sparkify"},
        {"Key": "managed-by", "Value": "sparkify flows/provision.py"}]
