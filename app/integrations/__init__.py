"""Finance (ERP) integration: connections, profiles, the five file jobs and their runs."""
