"""The warehouse engines by name: the runtime picks one from the profile."""

from sparkify.local.standin.warehouse import StandInRedshiftWarehouse
from sparkify.warehouse.postgres import PostgresWarehouse
from sparkify.warehouse.redshift import RedshiftWarehouse

ENGINES = {"postgres": PostgresWarehouse, "redshift": RedshiftWarehouse,
           StandInRedshiftWarehouse.name: StandInRedshiftWarehouse}
