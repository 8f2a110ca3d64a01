"""The warehouse engines by name: the runtime picks one from the profile."""

from sparkify.warehouse.postgres import PostgresWarehouse
from sparkify.warehouse.redshift import RedshiftWarehouse

ENGINES = {cls.engine: cls for cls in (PostgresWarehouse, RedshiftWarehouse)}
