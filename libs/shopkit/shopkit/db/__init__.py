"""Database backends of the services (ENGINE values of shopkit.settings.database)."""
