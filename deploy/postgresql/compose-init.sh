#!/bin/sh
# PostgreSQL container start-up hook (docker-entrypoint-initdb.d, first start only): the
# same roles and database as a host install, from deploy/postgresql/setup.sql.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v owner_password="$SEALBOX_OWNER_PASSWORD" -v app_password="$SEALBOX_APP_PASSWORD" \
     -v intake_password="$SEALBOX_INTAKE_PASSWORD" \
     -f /sealbox/setup.sql
