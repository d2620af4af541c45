-- Prefect's own database beside newswatch's store, in the same PostgreSQL.
CREATE DATABASE prefect OWNER newswatch;
